// `db rekey` and `db verify` run in parts (the database provider's
// "max_batches" and "limit"/"after" arguments), so that the tool can draw
// its progress bar between them. Each returns the result of the whole run in
// the form the provider gives for a run in one call.
#ifndef COFFER_CLI_DB_STEPS_HPP
#define COFFER_CLI_DB_STEPS_HPP

#include <coffer/store.hpp>

#include <boost/json/object.hpp>

#include <string>

#include "progress.hpp"

namespace coffer::cli {

// Re-encrypts a few batches per call until the rekey has finished; the
// result sums "reencrypted" and "retired_data_keys" over the calls and keeps
// the first call's "resumed".
boost::json::object rekey_in_steps(Store &store, const std::string &provider,
                                   boost::json::object arguments, const Progress &progress);

// Verifies a page of records per call. The result is judged as a whole:
// "ok" is false when a record is bad, the store did not unlock or the
// database's integrity check (run with the first page) found a problem;
// `failure` then receives the one-line reason.
boost::json::object verify_in_steps(Store &store, const std::string &provider,
                                    boost::json::object arguments, const Progress &progress,
                                    std::string &failure);

}  // namespace coffer::cli

#endif  // COFFER_CLI_DB_STEPS_HPP

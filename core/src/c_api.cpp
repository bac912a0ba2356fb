// The C host API (coffer.h) over coffer::Store.
#include <coffer/coffer.h>
#include <coffer/process.hpp>
#include <coffer/store.hpp>

#include <new>
#include <string>

struct coffer_store {
  coffer::Store store;
};

struct coffer_secret {
  coffer::Secret secret;
};

struct coffer_error {
  coffer_code code;
  std::string message;
};

namespace {

coffer_code fail(coffer_error **error, coffer_code code, std::string message) {
  if (error != nullptr) *error = new (std::nothrow) coffer_error{code, std::move(message)};
  return code;
}

// Runs `body`, turning exceptions into a code and an error object.
template <class Body>
coffer_code guarded(coffer_error **error, Body &&body) noexcept {
  if (error != nullptr) *error = nullptr;
  try {
    body();
    return COFFER_OK;
  } catch (const coffer::Error &e) {
    return fail(error, static_cast<coffer_code>(e.code()), e.what());
  } catch (const std::bad_alloc &) {
    return fail(error, COFFER_INTERNAL, "out of memory");
  } catch (const std::exception &e) {
    return fail(error, COFFER_INTERNAL, std::string("internal error: ") + e.what());
  } catch (...) {
    return fail(error, COFFER_INTERNAL, "internal error");
  }
}

}  // namespace

extern "C" {

const char *coffer_code_name(coffer_code code) {
  static const char *const names[] = {
      "ok",          "not_found", "denied",   "unavailable",    "invalid_argument",
      "unsupported", "timeout",   "internal", "invalid_config", "data_error"};
  auto index = static_cast<unsigned>(code);
  return index < sizeof names / sizeof names[0] ? names[index] : "internal";
}

coffer_code coffer_error_code(const coffer_error *error) {
  return error != nullptr ? error->code : COFFER_OK;
}

const char *coffer_error_message(const coffer_error *error) {
  return error != nullptr ? error->message.c_str() : "";
}

void coffer_error_free(coffer_error *error) {
  delete error;
}

coffer_code coffer_store_open(const char *policy_path, coffer_store **store, coffer_error **error) {
  if (policy_path == nullptr || store == nullptr)
    return fail(error, COFFER_INVALID_ARGUMENT, "coffer_store_open: NULL argument");
  return guarded(error, [&] { *store = new coffer_store{coffer::Store::open(policy_path)}; });
}

coffer_code coffer_store_open_string(const char *policy_json, size_t size, coffer_store **store,
                                     coffer_error **error) {
  if (policy_json == nullptr || store == nullptr)
    return fail(error, COFFER_INVALID_ARGUMENT, "coffer_store_open_string: NULL argument");
  return guarded(error, [&] {
    *store = new coffer_store{coffer::Store::from_string(std::string_view(policy_json, size))};
  });
}

void coffer_store_close(coffer_store *store) {
  delete store;
}

coffer_code coffer_get(coffer_store *store, const char *key, coffer_secret **secret,
                       coffer_error **error) {
  if (store == nullptr || key == nullptr || secret == nullptr)
    return fail(error, COFFER_INVALID_ARGUMENT, "coffer_get: NULL argument");
  return guarded(error, [&] { *secret = new coffer_secret{store->store.get(key)}; });
}

const unsigned char *coffer_secret_data(const coffer_secret *secret) {
  return secret != nullptr ? secret->secret.bytes().data() : nullptr;
}

size_t coffer_secret_size(const coffer_secret *secret) {
  return secret != nullptr ? secret->secret.size() : 0;
}

const char *coffer_secret_version(const coffer_secret *secret) {
  if (secret == nullptr || secret->secret.version().empty()) return "";
  return secret->secret.version().data();  // followed by a NUL
}

void coffer_secret_free(coffer_secret *secret) {
  delete secret;
}

coffer_code coffer_put(coffer_store *store, const char *key, const unsigned char *data, size_t size,
                       coffer_error **error) {
  if (store == nullptr || key == nullptr || (data == nullptr && size != 0))
    return fail(error, COFFER_INVALID_ARGUMENT, "coffer_put: NULL argument");
  return guarded(error, [&] {
    coffer::Secret value =
        coffer::Secret::copy_of(std::span<const unsigned char>(data, data == nullptr ? 0 : size));
    store->store.put(key, value);
  });
}

coffer_code coffer_remove(coffer_store *store, const char *key, coffer_error **error) {
  if (store == nullptr || key == nullptr)
    return fail(error, COFFER_INVALID_ARGUMENT, "coffer_remove: NULL argument");
  return guarded(error, [&] { store->store.remove(key); });
}

coffer_code coffer_reload(coffer_store *store, coffer_error **error) {
  if (store == nullptr) return fail(error, COFFER_INVALID_ARGUMENT, "coffer_reload: NULL argument");
  return guarded(error, [&] { store->store.reload(); });
}

coffer_code coffer_harden_process(coffer_error **error) {
  return guarded(error, [] { coffer::harden_process(); });
}

}  // extern "C"

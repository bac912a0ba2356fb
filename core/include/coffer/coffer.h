/*
 * coffer C host API: the same core as coffer::Store, for hosts written in C
 * or reached through a foreign-function interface.
 *
 * Handles are opaque. Every function returns a coffer_code; on failure it can
 * also hand back a coffer_error (when `error` is non-NULL) that the caller
 * frees with coffer_error_free(). Secrets come back as coffer_secret handles
 * whose memory is locked and wiped by coffer_secret_free(). Nothing is ever to
 * be freed that the caller did not ask for.
 *
 * Threading: a coffer_store may be used from many threads at once. Errors and
 * secrets are plain values owned by the caller.
 *
 * Deadlines: every call into a provider is bounded by the policy's
 * timeout_ms; one that a provider does not answer in time fails with
 * COFFER_TIMEOUT. With an audit log that fails closed, an access whose audit
 * line cannot be written fails with COFFER_UNAVAILABLE.
 */
#ifndef COFFER_COFFER_H
#define COFFER_COFFER_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes; equal to coffer::Code and the CLI's documented meanings. */
typedef enum coffer_code {
  COFFER_OK = 0,
  COFFER_NOT_FOUND = 1,
  COFFER_DENIED = 2,
  COFFER_UNAVAILABLE = 3,
  COFFER_INVALID_ARGUMENT = 4,
  COFFER_UNSUPPORTED = 5,
  COFFER_TIMEOUT = 6,
  COFFER_INTERNAL = 7,
  COFFER_INVALID_CONFIG = 8,
  COFFER_DATA_ERROR = 9
} coffer_code;

typedef struct coffer_store coffer_store;
typedef struct coffer_secret coffer_secret;
typedef struct coffer_error coffer_error;

/* A static, lower-case name for a code ("not_found"); never NULL. */
const char *coffer_code_name(coffer_code code);

/* The error's code and its message (NUL-terminated, valid until the error is
 * freed; never contains a secret value). */
coffer_code coffer_error_code(const coffer_error *error);
const char *coffer_error_message(const coffer_error *error);
/* Frees an error; NULL is allowed. */
void coffer_error_free(coffer_error *error);

/* Opens a store from a policy file. On success *store is set; close it with
 * coffer_store_close(). */
coffer_code coffer_store_open(const char *policy_path, coffer_store **store, coffer_error **error);
/* Opens a store from policy text (`size` bytes). */
coffer_code coffer_store_open_string(const char *policy_json, size_t size, coffer_store **store,
                                     coffer_error **error);
/* Closes a store; waits for its requests in flight. NULL is allowed. */
void coffer_store_close(coffer_store *store);

/* Names the caller of this store's accesses from now on: the identity the
 * audit log and an observer see (AccessEvent::caller), as StoreOptions::caller
 * does in C++. `caller` is copied; at most 256 bytes, no control characters;
 * NULL or "" names none again. Safe while other threads use the store: each
 * access takes the name in force when it starts. A name given per call (the
 * _as functions below) takes precedence. */
coffer_code coffer_store_set_caller(coffer_store *store, const char *caller, coffer_error **error);

/* Reads a secret (blocking). On success *secret is set; free it with
 * coffer_secret_free(). */
coffer_code coffer_get(coffer_store *store, const char *key, coffer_secret **secret,
                       coffer_error **error);
/* coffer_get for a named caller (GetOptions::caller in C++): `caller` as in
 * coffer_store_set_caller(); NULL or "" is the store's caller. */
coffer_code coffer_get_as(coffer_store *store, const char *key, const char *caller,
                          coffer_secret **secret, coffer_error **error);
/* The secret's bytes (not NUL-terminated) and their count; valid until the
 * secret is freed. */
const unsigned char *coffer_secret_data(const coffer_secret *secret);
size_t coffer_secret_size(const coffer_secret *secret);
/* The provider's version id of the value (NUL-terminated; "" when none). */
const char *coffer_secret_version(const coffer_secret *secret);
/* Wipes and frees a secret; NULL is allowed. */
void coffer_secret_free(coffer_secret *secret);

/* Writes `size` bytes as a new version of `key`. */
coffer_code coffer_put(coffer_store *store, const char *key, const unsigned char *data, size_t size,
                       coffer_error **error);
/* Removes `key`. */
coffer_code coffer_remove(coffer_store *store, const char *key, coffer_error **error);
/* coffer_put and coffer_remove for a named caller, as coffer_get_as. */
coffer_code coffer_put_as(coffer_store *store, const char *key, const unsigned char *data,
                          size_t size, const char *caller, coffer_error **error);
coffer_code coffer_remove_as(coffer_store *store, const char *key, const char *caller,
                             coffer_error **error);
/* Reloads the policy; on failure the old policy stays in force. */
coffer_code coffer_reload(coffer_store *store, coffer_error **error);

/* Turns core dumps and ptrace attachment off for the whole process, as
 * coffer::harden_process() (coffer/process.hpp) describes: RLIMIT_CORE 0 (soft
 * and hard) and prctl(PR_SET_DUMPABLE, 0). Call it early in main() and again
 * after changing user or group ids. Fails with COFFER_INTERNAL naming the step
 * the system refused. Thread-safe. */
coffer_code coffer_harden_process(coffer_error **error);

#ifdef __cplusplus
}
#endif

#endif /* COFFER_COFFER_H */

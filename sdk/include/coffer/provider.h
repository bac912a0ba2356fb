/*
 * coffer provider ABI: the stable C boundary between the coffer core and a
 * provider plugin (a shared object that serves secrets from one kind of backend).
 *
 * A plugin exports exactly one symbol, coffer_provider_entry(), which returns a
 * static, versioned table of functions. Nothing but C types crosses this
 * boundary: no C++ type, exception, allocator or Boost object. The header
 * compiles as C99 with -pedantic.
 *
 * Versioning. COFFER_ABI_VERSION is (major << 16) | minor. The core refuses a
 * table whose major version differs from its own. Minor versions only append
 * fields at the end of a structure; every structure that crosses the boundary
 * starts with `struct_size`, and a reader never touches a field that lies
 * beyond the `struct_size` the writer gave. An operation that is missing from a
 * shorter (older) table, or whose pointer is NULL, is reported to hosts as
 * COFFER_STATUS_UNSUPPORTED.
 *
 * Threading. The core may call every operation of an instance from any thread
 * and concurrently, except open() and close() (see there). Completion callbacks
 * may run on any thread, including the caller's own thread before the
 * operation returns, and each is called exactly once.
 *
 * Secrets. Secret values cross only as (pointer, size) pairs whose memory stays
 * owned by the side that passed them and is valid only for the duration of the
 * call or callback that received them. The receiver copies what it keeps, into
 * secret memory (coffer_host.secret_allocate, since 1.3). No message, log line
 * or name produced by a plugin may contain a secret value.
 */
#ifndef COFFER_PROVIDER_H
#define COFFER_PROVIDER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Versions                                                                  */

#define COFFER_ABI_VERSION_MAJOR 1u
#define COFFER_ABI_VERSION_MINOR 5u
#define COFFER_ABI_VERSION ((COFFER_ABI_VERSION_MAJOR << 16) | COFFER_ABI_VERSION_MINOR)
#define COFFER_ABI_MAJOR(version) ((uint32_t)(version) >> 16)
#define COFFER_ABI_MINOR(version) ((uint32_t)(version)&0xFFFFu)

/* The name of the one symbol a plugin exports. */
#define COFFER_PROVIDER_ENTRY_SYMBOL "coffer_provider_entry"

/* ------------------------------------------------------------------------ */
/* Keys                                                                      */

/* A canonical key is `Category.Name`: two parts joined by one dot, each an
 * ASCII letter followed by ASCII letters and digits, at most
 * COFFER_KEY_MAX_LENGTH characters in all (e.g. `VCS.GithubAdminPAT`). Every
 * key the core passes to a plugin is one; the core refuses others before
 * any plugin sees them. A provider maps keys to its own names (key_name). */
#define COFFER_KEY_MAX_LENGTH 255u

/* Nonzero when the `length` characters at `key` are a canonical key (no NUL
 * needed). The one implementation of the grammar: the core, the C++ SDK
 * (coffer::provider::is_canonical_key) and coffer's plugins use it. */
static inline int coffer_is_canonical_key(const char *key, size_t length) {
  size_t i = 0;
  int part = 0;
  if (key == NULL || length == 0 || length > COFFER_KEY_MAX_LENGTH) return 0;
  for (part = 0; part < 2; ++part) {
    char c = i < length ? key[i] : '\0';
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) return 0;
    for (++i; i < length; ++i) {
      c = key[i];
      if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) break;
    }
    if (part == 0) {
      if (i == length || key[i] != '.') return 0;
      ++i; /* the dot */
    }
  }
  return i == length;
}

#if defined(_WIN32)
#define COFFER_PROVIDER_EXPORT __declspec(dllexport)
#else
#define COFFER_PROVIDER_EXPORT __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------ */
/* Status codes                                                              */

/*
 * Every operation reports one of these. They are plain int32_t values (not an
 * enum type) so that their size never depends on the compiler. Codes a reader
 * does not know must be treated as COFFER_STATUS_INTERNAL.
 */
typedef int32_t coffer_status;

/* The operation succeeded. */
#define COFFER_STATUS_OK 0
/* The key (or the named version) does not exist in this provider. A fallback
 * chain moves on to its next provider by default. Cheap and definitive: never
 * use it for "could not ask". */
#define COFFER_STATUS_NOT_FOUND 1
/* The backend refused: bad or missing credentials, no permission, a disabled
 * secret. Not retried; a fallback chain stops here by default. */
#define COFFER_STATUS_DENIED 2
/* The backend could not be reached or answered with a transient failure after
 * the provider's own retries. Retryable later; the core may serve a stale
 * cached value and a fallback chain moves on by default. */
#define COFFER_STATUS_UNAVAILABLE 3
/* The request is malformed for this provider: a key it cannot map to a name,
 * a value it cannot store, a bad version id. */
#define COFFER_STATUS_INVALID_ARGUMENT 4
/* The provider does not implement this operation (or this form of it, e.g. a
 * get of a named version). */
#define COFFER_STATUS_UNSUPPORTED 5
/* The operation did not complete within its deadline. Retryable. */
#define COFFER_STATUS_TIMEOUT 6
/* A bug or an unexpected failure inside the provider (including a C++
 * exception caught at the boundary). */
#define COFFER_STATUS_INTERNAL 7
/* The provider's configuration is invalid (open() only, or an operation that
 * discovers a configuration problem later, such as an unreadable file). */
#define COFFER_STATUS_INVALID_CONFIG 8
/* The stored data is corrupt or fails authentication (e.g. a tampered
 * ciphertext or a wrong master key). Not retried. */
#define COFFER_STATUS_DATA_ERROR 9

/* ------------------------------------------------------------------------ */
/* The host table: what the core lends to a plugin                           */

/* Log levels, lowest first. */
#define COFFER_LOG_DEBUG 0
#define COFFER_LOG_INFO 1
#define COFFER_LOG_WARNING 2
#define COFFER_LOG_ERROR 3

typedef struct coffer_host {
  /* sizeof(coffer_host) as the core compiled it; read no field past it. */
  uint32_t struct_size;
  /* COFFER_ABI_VERSION of the core. */
  uint32_t abi_version;
  /* Opaque; pass it back as the first argument of every function below. */
  void *context;
  /* Writes one log line. Callable from any thread at any time between open()
   * returning and close() returning, and during them. `message` is a
   * NUL-terminated UTF-8 string owned by the caller, copied before the call
   * returns; it must never contain a secret value, an access token or any
   * other credential. `level` is one of COFFER_LOG_*. Never NULL. */
  void (*log)(void *context, int32_t level, const char *message);
  /* The lowest level the host records; a plugin may skip building messages
   * below it. Informational: log() filters anyway. */
  int32_t log_level;
  /* Wall-clock time in milliseconds since the Unix epoch. Plugins should use
   * it for expiry decisions so that tests can control time. Never NULL. */
  int64_t (*now_unix_ms)(void *context);
  /* Since ABI 1.1: absent from a core whose host->struct_size does not reach
   * past it (use COFFER_HOST_HAS_COUNT).
   * Adds `delta` to this instance's counter `counter`, which the host's
   * metrics export as coffer_provider_<counter>_total{provider="<instance>"}.
   * `counter` is a NUL-terminated lower_snake_case name owned by the caller.
   * Names the core documents: "retries" (a request sent again after a
   * failure), "token_exchanges" (a credential exchanged for an access token),
   * "reconnects" (a connection to the backend re-established). Callable from
   * any thread, like log(). Never NULL when present. */
  void (*count)(void *context, const char *counter, uint64_t delta);
  /* Since ABI 1.3: absent from a core whose host->struct_size does not reach
   * past them (use COFFER_HOST_HAS_SECRET_MEMORY).
   * Secret memory, for key material, tokens, passwords, values and any buffer
   * that holds them: excluded from core dumps (MADV_DONTDUMP), locked against
   * swapping where RLIMIT_MEMLOCK allows, not inherited by child processes
   * (MADV_DONTFORK: a forked child must not touch it) and wiped when freed.
   * The memory belongs to the process, not to the instance: unlike the
   * functions above these take no context, a block may be freed through the
   * table of any instance, and both stay callable from any thread at any time
   * while the core is loaded, also after close() of every instance (for
   * memory a plugin keeps in static caches). Never NULL when present.
   *
   * secret_allocate() returns `size` bytes of unspecified content, aligned
   * for any fundamental type, owned by the caller until it passes them to
   * secret_free(); NULL when `size` is 0 or memory is exhausted. */
  void *(*secret_allocate)(size_t size);
  /* Wipes the `size` bytes at `block` and frees them. `block` comes from
   * secret_allocate() with the same `size`, or is NULL (nothing happens). */
  void (*secret_free)(void *block, size_t size);
} coffer_host;

/* Whether the host table `host` has the count() operation. */
#define COFFER_HOST_HAS_COUNT(host)                                                \
  ((host)->struct_size >= offsetof(coffer_host, count) + sizeof(void (*)(void)) && \
   (host)->count != NULL)

/* Whether the host table `host` has secret_allocate() and secret_free(). */
#define COFFER_HOST_HAS_SECRET_MEMORY(host)                                              \
  ((host)->struct_size >= offsetof(coffer_host, secret_free) + sizeof(void (*)(void)) && \
   (host)->secret_allocate != NULL && (host)->secret_free != NULL)

/* ------------------------------------------------------------------------ */
/* Values crossing the boundary                                              */

/* A secret value handed by a plugin to the core in a get completion. */
typedef struct coffer_value {
  /* sizeof(coffer_value) as the plugin compiled it. */
  uint32_t struct_size;
  /* The secret bytes (not NUL-terminated, may contain NUL bytes) and their
   * count. Owned by the plugin and valid only until the completion callback
   * returns; the core copies them into locked memory and the plugin should
   * wipe its buffer afterwards. `data` may be NULL when `size` is 0. */
  const unsigned char *data;
  size_t size;
  /* The provider's identifier of this value's version (a Key Vault version,
   * a database version number, a content digest), NUL-terminated, or NULL
   * when the provider has none. Two reads of an unchanged value must give the
   * same string; a changed value must give a different one. Never derived from
   * the value in a way that reveals it (use a keyed digest or a counter). */
  const char *version;
  /* Since ABI 1.4: the core reads it only when struct_size reaches past it
   * (a value from an older plugin counts as 0).
   * When this version was written, in milliseconds since the Unix epoch (as
   * the backend records it), or 0 when the provider does not know. */
  int64_t created_unix_ms;
} coffer_value;

/* One entry of a list() result. */
typedef struct coffer_list_entry {
  /* sizeof(coffer_list_entry) as the plugin compiled it. The core walks the
   * entries array with this stride. */
  uint32_t struct_size;
  /* The canonical key (`Category.Name`) this entry maps to, or NULL when the
   * provider's name does not map to a canonical key. */
  const char *key;
  /* The provider's own name for the entry (e.g. `VCS-GithubAdminPAT`).
   * Never NULL. */
  const char *name;
  /* Version identifier as in coffer_value, or NULL. */
  const char *version;
} coffer_list_entry;

/* Since ABI 1.4. One version of a key, in a versions() result. */
typedef struct coffer_version_entry {
  /* sizeof(coffer_version_entry) as the plugin compiled it. The core walks
   * the entries array with this stride. */
  uint32_t struct_size;
  /* The version identifier, as get() returns it in coffer_value.version and
   * accepts in coffer_get_request.version. NUL-terminated, never NULL. */
  const char *version;
  /* When the version was written, in milliseconds since the Unix epoch, or
   * 0 when the provider does not know. */
  int64_t created_unix_ms;
  /* Nonzero when a get() of this version returns it; 0 when the backend keeps
   * it but refuses to serve it (a disabled Key Vault version). */
  int32_t enabled;
} coffer_version_entry;

/* Parameters of open(). */
typedef struct coffer_open_params {
  /* sizeof(coffer_open_params) as the core compiled it. */
  uint32_t struct_size;
  /* The policy's name for this instance (`providers.NAME`), NUL-terminated.
   * Use it in messages so an operator knows which instance speaks. */
  const char *instance_name;
  /* The instance's `config` object from the policy as JSON text (comments
   * already removed), NUL-terminated; `config_size` excludes the NUL. */
  const char *config_json;
  size_t config_size;
  /* Directory of the policy file, against which relative paths in the config
   * resolve; NUL-terminated; NULL when the policy did not come from a file. */
  const char *base_directory;
} coffer_open_params;

/* Parameters of get(). */
typedef struct coffer_get_request {
  /* sizeof(coffer_get_request) as the core compiled it. */
  uint32_t struct_size;
  /* The canonical key, `Category.Name`, NUL-terminated ASCII. */
  const char *key;
  /* A version identifier as returned in coffer_value.version to read that
   * version, or NULL for the latest. Requires COFFER_CAP_VERSIONS. */
  const char *version;
  /* The caller's deadline for this operation in milliseconds from the call,
   * including the provider's own retries; 0 means the provider's default.
   * A provider that cannot finish in time completes with
   * COFFER_STATUS_TIMEOUT or COFFER_STATUS_UNAVAILABLE. */
  uint32_t timeout_ms;
  /* Since ABI 1.5: COFFER_GET_* bits. A plugin reads it only when
   * struct_size reaches past it (an older core's request has none: 0). */
  uint32_t flags;
} coffer_get_request;

/* Since ABI 1.5, in coffer_get_request.flags: the calling thread blocks until
 * `done` is called anyway (a synchronous get in the core). The plugin may
 * then do the whole operation on the calling thread, waiting on the network
 * included, and call `done` before get() returns, instead of handing it to a
 * thread of its own and back. The deadline (timeout_ms) still bounds it.
 * Without the flag get() must not wait on the network. */
#define COFFER_GET_CALLER_WAITS (1u << 0)

/* ------------------------------------------------------------------------ */
/* Completion callbacks                                                      */

/*
 * Each asynchronous operation takes a callback and an opaque `context` that is
 * passed back unchanged. The plugin calls the callback exactly once per
 * operation, from any thread, possibly before the operation returns, and never
 * after close() has returned. `message` is NULL or a NUL-terminated, human
 * readable explanation (owned by the plugin, valid during the call) that names
 * what failed and never contains a secret value; it is expected whenever the
 * status is not COFFER_STATUS_OK. Callbacks must not block for long; the core's
 * callbacks never call back into the plugin synchronously.
 */

/* Completion of get(): `value` is non-NULL exactly when status is OK. */
typedef void (*coffer_get_callback)(void *context, coffer_status status, const coffer_value *value,
                                    const char *message);

/* Completion of put(), remove() and health(). For put(), `version` is the
 * identifier of the version just written, or NULL; otherwise NULL. For
 * health(), `message` may describe a healthy instance too. */
typedef void (*coffer_done_callback)(void *context, coffer_status status, const char *version,
                                     const char *message);

/* Completion of list(): `entries` points to `count` entries (stride
 * entries[0].struct_size) valid only during the call; NULL when count is 0. */
typedef void (*coffer_list_callback)(void *context, coffer_status status,
                                     const coffer_list_entry *entries, size_t count,
                                     const char *message);

/* Since ABI 1.4. Completion of versions(): `entries` points to `count`
 * entries (stride entries[0].struct_size), newest first, valid only during
 * the call; NULL when count is 0 (and whenever status is not OK). */
typedef void (*coffer_versions_callback)(void *context, coffer_status status,
                                         const coffer_version_entry *entries, size_t count,
                                         const char *message);

/* Completion of admin(): `result_json` is NULL or a NUL-terminated JSON text
 * describing the outcome (never a secret value), valid during the call. */
typedef void (*coffer_admin_callback)(void *context, coffer_status status, const char *result_json,
                                      const char *message);

/* ------------------------------------------------------------------------ */
/* Capabilities                                                              */

/* get() is implemented. Every provider should set it. */
#define COFFER_CAP_GET (1ull << 0)
/* put() is implemented and enabled by this build. */
#define COFFER_CAP_PUT (1ull << 1)
/* remove() is implemented. */
#define COFFER_CAP_REMOVE (1ull << 2)
/* list() is implemented. */
#define COFFER_CAP_LIST (1ull << 3)
/* health() is implemented. */
#define COFFER_CAP_HEALTH (1ull << 4)
/* get() accepts a named version (coffer_get_request.version). */
#define COFFER_CAP_VERSIONS (1ull << 5)
/* key_name() is implemented (otherwise the provider's name is the key). */
#define COFFER_CAP_KEY_NAME (1ull << 6)
/* admin() is implemented. */
#define COFFER_CAP_ADMIN (1ull << 7)
/* Since ABI 1.4: versions() is implemented (the backend keeps a key's
 * earlier versions and can list them). */
#define COFFER_CAP_HISTORY (1ull << 8)
/* Since ABI 1.4: remove() leaves the deleted data recoverable in the backend
 * (e.g. Key Vault's soft delete) until purge() deletes it for good; purge()
 * is implemented. */
#define COFFER_CAP_SOFT_DELETE (1ull << 9)

/* An instance may narrow these at run time (e.g. an env file opened without
 * `writable`): its put() then completes with COFFER_STATUS_UNSUPPORTED. */

/* ------------------------------------------------------------------------ */
/* The provider table                                                        */

/* Opaque instance handle, defined by each plugin. */
typedef struct coffer_instance coffer_instance;

typedef struct coffer_provider {
  /* sizeof(coffer_provider) as the plugin compiled it. The core reads no
   * field at or past this offset; missing operations count as NULL. */
  uint32_t struct_size;
  /* COFFER_ABI_VERSION the plugin was built against. */
  uint32_t abi_version;
  /* Plugin name, e.g. "env_file"; the policy's `plugin` field selects the
   * file lib<name>.so or <name>.so. Static, NUL-terminated, never NULL. */
  const char *name;
  /* The plugin's own version, e.g. "1.2.0". Static, NUL-terminated. */
  const char *plugin_version;
  /* One line for `coffer plugins`. Static, NUL-terminated. */
  const char *description;
  /* COFFER_CAP_* bits. A bit may only be set if the matching function
   * pointer is non-NULL. */
  uint64_t capabilities;

  /* Creates an instance from its configuration. Blocking, but should not
   * wait on the network for long (validate and prepare; connect lazily).
   * On success stores the instance in *instance and returns
   * COFFER_STATUS_OK. On failure returns another status (usually
   * COFFER_STATUS_INVALID_CONFIG), leaves *instance untouched and writes a
   * NUL-terminated message of at most `error_capacity` bytes (truncated) into
   * `error` naming the offending field. `host` and everything it points to
   * stay valid until close() of this instance returns. May run concurrently
   * with operations on other instances of the same plugin. Required. */
  coffer_status (*open)(const coffer_host *host, const coffer_open_params *params,
                        coffer_instance **instance, char *error, size_t error_capacity);

  /* Destroys an instance. The core calls it once, after every operation it
   * started on the instance has completed, and never concurrently with
   * another call on the same instance. The plugin stops its threads and
   * wipes the secret material it holds before returning. Required. */
  void (*close)(coffer_instance *instance);

  /* Reads a secret. `request` and the strings in it are valid only until
   * get() returns; copy what the operation needs later. Calls `done` exactly
   * once. Non-blocking: a plugin that must wait does so on its own threads,
   * unless the request carries COFFER_GET_CALLER_WAITS (since 1.5). Required. */
  void (*get)(coffer_instance *instance, const coffer_get_request *request,
              coffer_get_callback done, void *context);

  /* Writes a secret as a new version (COFFER_CAP_PUT). `key` and the `size`
   * bytes at `data` are valid only until put() returns. Calls `done` exactly
   * once with the new version's identifier. */
  void (*put)(coffer_instance *instance, const char *key, const unsigned char *data, size_t size,
              coffer_done_callback done, void *context);

  /* Removes a secret and its versions (COFFER_CAP_REMOVE). Removing a key
   * that does not exist completes with COFFER_STATUS_NOT_FOUND. */
  void (*remove)(coffer_instance *instance, const char *key, coffer_done_callback done,
                 void *context);

  /* Lists every entry the backend holds (COFFER_CAP_LIST), never values. */
  void (*list)(coffer_instance *instance, coffer_list_callback done, void *context);

  /* Checks that the backend is reachable and usable (COFFER_CAP_HEALTH). */
  void (*health)(coffer_instance *instance, coffer_done_callback done, void *context);

  /* Maps a canonical key to the provider's own name for it
   * (COFFER_CAP_KEY_NAME), synchronously and without I/O. Writes the
   * NUL-terminated name into `name` (capacity `name_capacity`) and its length
   * without the NUL into *name_size. Returns COFFER_STATUS_OK, or
   * COFFER_STATUS_INVALID_ARGUMENT when the key cannot be represented (with a
   * message in `error`, which names the key). If the capacity is too small,
   * returns COFFER_STATUS_INVALID_ARGUMENT with *name_size set to the length
   * needed. Thread-safe. */
  coffer_status (*key_name)(coffer_instance *instance, const char *key, char *name,
                            size_t name_capacity, size_t *name_size, char *error,
                            size_t error_capacity);

  /* Runs a provider-specific administrative command (COFFER_CAP_ADMIN), such
   * as the database provider's "init", "rotate-master-key", "rekey" or
   * "verify". `command` is a NUL-terminated name; `arguments_json` is a
   * NUL-terminated JSON object (possibly "{}"); both are valid only until
   * admin() returns. An unknown command completes with
   * COFFER_STATUS_UNSUPPORTED. The result never contains secret values. May
   * run for a long time; calls `done` exactly once. */
  void (*admin)(coffer_instance *instance, const char *command, const char *arguments_json,
                coffer_admin_callback done, void *context);

  /* Since ABI 1.2. Asks the instance to finish every operation in flight
   * promptly, without waiting for the backend: each still calls its callback
   * exactly once (usually with COFFER_STATUS_UNAVAILABLE, "the instance is
   * closing"), soon, from any thread. Operations started afterwards may fail
   * the same way. Returns without waiting. The core calls it at most once,
   * when the Store shuts down, from any thread and possibly while operations
   * run; close() follows once they have all completed. NULL (or a shorter
   * table): the core waits for operations to end on their own, retries
   * included. Optional. */
  void (*cancel)(coffer_instance *instance);

  /* Since ABI 1.4 (absent from a shorter table: the core reports
   * COFFER_STATUS_UNSUPPORTED).
   * Lists every version the backend keeps of `key` (COFFER_CAP_HISTORY),
   * newest first, never values. `key` is a NUL-terminated canonical key
   * valid only until versions() returns. Completes with
   * COFFER_STATUS_NOT_FOUND when the key does not exist (a removed key
   * included). Calls `done` exactly once. */
  void (*versions)(coffer_instance *instance, const char *key, coffer_versions_callback done,
                   void *context);

  /* Since ABI 1.4 (absent from a shorter table: the core reports
   * COFFER_STATUS_UNSUPPORTED).
   * Deletes for good the data of a key that remove() left recoverable
   * (COFFER_CAP_SOFT_DELETE). `key` is a NUL-terminated canonical key valid
   * only until purge() returns. Completes with COFFER_STATUS_NOT_FOUND when
   * the backend holds no removed key of that name, COFFER_STATUS_DENIED when
   * the backend refuses (purge protection, a missing permission; the message
   * names what is missing). A backend that is still completing the removal
   * is waited for within the provider's deadline and retries. `version` of
   * the callback is NULL. Calls `done` exactly once. */
  void (*purge)(coffer_instance *instance, const char *key, coffer_done_callback done,
                void *context);
} coffer_provider;

/*
 * The one symbol a plugin exports. The core calls it (possibly more than once,
 * from any thread) with its own COFFER_ABI_VERSION; the plugin returns a
 * pointer to its static table, which must stay valid while the library is
 * loaded. A plugin may return NULL when it cannot work with that core version;
 * the core then refuses it with a message naming both versions.
 */
typedef const coffer_provider *(*coffer_provider_entry_fn)(uint32_t core_abi_version);

/* The declaration every plugin defines (exported with COFFER_PROVIDER_EXPORT). */
COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(uint32_t core_abi_version);

#ifdef __cplusplus
}
#endif

#endif /* COFFER_PROVIDER_H */

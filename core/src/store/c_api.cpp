// The C host API (coffer.h) over coffer::Store.
#include <coffer/coffer.h>
#include <coffer/process.hpp>
#include <coffer/store.hpp>

#include <mutex>
#include <new>
#include <string>

struct coffer_store {
  explicit coffer_store(coffer::Store opened) : store(std::move(opened)) {}
  coffer::Store store;
  std::mutex mutex;    // guards caller
  std::string caller;  // coffer_store_set_caller()
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

constexpr std::size_t kMaxCaller = 256;

// A caller name as the audit log will show it: short, no control characters.
void check_caller(const char *caller) {
  std::string_view name(caller);
  bool printable = true;
  for (unsigned char c : name) printable = printable && c >= 0x20 && c != 0x7f;
  if (name.size() > kMaxCaller || !printable)
    throw coffer::Error(coffer::Code::invalid_argument,
                        "a caller name has at most 256 bytes and no control characters");
}

// The caller of one access: the one named for it, else the store's.
std::string caller_of(coffer_store *store, const char *caller) {
  if (caller != nullptr && *caller != '\0') {
    check_caller(caller);
    return caller;
  }
  std::lock_guard lock(store->mutex);
  return store->caller;
}

coffer_code get_as(coffer_store *store, const char *key, const char *caller, coffer_secret **secret,
                   coffer_error **error) {
  if (store == nullptr || key == nullptr || secret == nullptr)
    return fail(error, COFFER_INVALID_ARGUMENT, "coffer_get: NULL argument");
  return guarded(error, [&] {
    std::string name = caller_of(store, caller);
    coffer::GetOptions options;
    options.caller = name;
    *secret = new coffer_secret{store->store.get(key, options)};
  });
}

coffer_code put_as(coffer_store *store, const char *key, const unsigned char *data, size_t size,
                   const char *caller, coffer_error **error) {
  if (store == nullptr || key == nullptr || (data == nullptr && size != 0))
    return fail(error, COFFER_INVALID_ARGUMENT, "coffer_put: NULL argument");
  return guarded(error, [&] {
    std::string name = caller_of(store, caller);
    coffer::Secret value =
        coffer::Secret::copy_of(std::span<const unsigned char>(data, data == nullptr ? 0 : size));
    store->store.put(key, value, name);
  });
}

coffer_code remove_as(coffer_store *store, const char *key, const char *caller,
                      coffer_error **error) {
  if (store == nullptr || key == nullptr)
    return fail(error, COFFER_INVALID_ARGUMENT, "coffer_remove: NULL argument");
  return guarded(error, [&] { store->store.remove(key, caller_of(store, caller)); });
}

}  // namespace

extern "C" {

const char *coffer_code_name(coffer_code code) {
  return coffer::to_string(static_cast<coffer::Code>(code)).data();  // NUL-terminated
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

coffer_code coffer_store_set_caller(coffer_store *store, const char *caller, coffer_error **error) {
  if (store == nullptr)
    return fail(error, COFFER_INVALID_ARGUMENT, "coffer_store_set_caller: NULL argument");
  return guarded(error, [&] {
    std::string name = caller != nullptr ? caller : "";
    check_caller(name.c_str());
    std::lock_guard lock(store->mutex);
    store->caller = std::move(name);
  });
}

coffer_code coffer_get(coffer_store *store, const char *key, coffer_secret **secret,
                       coffer_error **error) {
  return get_as(store, key, nullptr, secret, error);
}

coffer_code coffer_get_as(coffer_store *store, const char *key, const char *caller,
                          coffer_secret **secret, coffer_error **error) {
  return get_as(store, key, caller, secret, error);
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
  return put_as(store, key, data, size, nullptr, error);
}

coffer_code coffer_put_as(coffer_store *store, const char *key, const unsigned char *data,
                          size_t size, const char *caller, coffer_error **error) {
  return put_as(store, key, data, size, caller, error);
}

coffer_code coffer_remove(coffer_store *store, const char *key, coffer_error **error) {
  return remove_as(store, key, nullptr, error);
}

coffer_code coffer_remove_as(coffer_store *store, const char *key, const char *caller,
                             coffer_error **error) {
  return remove_as(store, key, caller, error);
}

coffer_code coffer_reload(coffer_store *store, coffer_error **error) {
  if (store == nullptr) return fail(error, COFFER_INVALID_ARGUMENT, "coffer_reload: NULL argument");
  return guarded(error, [&] { store->store.reload(); });
}

coffer_code coffer_harden_process(coffer_error **error) {
  return guarded(error, [] { coffer::harden_process(); });
}

}  // extern "C"

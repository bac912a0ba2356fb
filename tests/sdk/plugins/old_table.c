/*
 * A plugin built against an older minor version of the ABI, whose table ended
 * after get(): its struct_size is offsetof(coffer_provider, put). The storage
 * behind it is a full current table whose later operations answer success, so
 * a core that read past struct_size would be caught: hosts must see
 * put/remove/list as unsupported and key_name as the key itself. It also
 * claims capabilities it has no functions for, which the core must drop.
 */
#define FIXED_KEY "Old.Key"
#define FIXED_VALUE "value-from-an-old-table"
#include "fixed_value.h"

/* Answers success: a test fails if the core calls one of these when it must
 * not (an operation past the table's struct_size). */
static void trap_put(coffer_instance *instance, const char *key, const unsigned char *data,
                     size_t size, coffer_done_callback done, void *context) {
  (void)instance, (void)key, (void)data, (void)size;
  done(context, COFFER_STATUS_OK, "written-past-struct-size", NULL);
}
static void trap_remove(coffer_instance *instance, const char *key, coffer_done_callback done,
                        void *context) {
  (void)instance, (void)key;
  done(context, COFFER_STATUS_OK, NULL, NULL);
}
static void trap_list(coffer_instance *instance, coffer_list_callback done, void *context) {
  (void)instance;
  done(context, COFFER_STATUS_OK, NULL, 0, NULL);
}
static coffer_status trap_key_name(coffer_instance *instance, const char *key, char *name,
                                   size_t capacity, size_t *size, char *error,
                                   size_t error_capacity) {
  (void)instance, (void)key, (void)error, (void)error_capacity;
  *size = 4;
  if (capacity < 5) return COFFER_STATUS_INVALID_ARGUMENT;
  memcpy(name, "trap", 5);
  return COFFER_STATUS_OK;
}

static const coffer_provider table = {
    .struct_size = offsetof(coffer_provider, put),
    .abi_version = (COFFER_ABI_VERSION_MAJOR << 16) | 0u,
    .name = "old_table",
    .plugin_version = "0.9.0",
    .description = "test: a table that ends after get",
    .capabilities =
        COFFER_CAP_GET | COFFER_CAP_PUT | COFFER_CAP_REMOVE | COFFER_CAP_LIST | COFFER_CAP_KEY_NAME,
    .open = fixed_open,
    .close = fixed_close,
    .get = fixed_get,
    .put = trap_put,
    .remove = trap_remove,
    .list = trap_list,
    .key_name = trap_key_name,
};

COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(uint32_t core_abi_version);
COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(uint32_t core_abi_version) {
  (void)core_abi_version;
  return &table;
}

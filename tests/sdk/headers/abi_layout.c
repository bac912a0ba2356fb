/*
 * The layout of every ABI structure on LP64 platforms (x86-64, aarch64), as
 * released with ABI 1.0. A change here breaks every plugin already built: a
 * minor version may only append fields (struct sizes grow, offsets of the
 * existing fields stay); anything else needs a new major version. Checked at
 * compile time (C11 _Static_assert).
 */
#include <coffer/provider.h>

#if !defined(__LP64__)
#error "abi_layout.c describes LP64 platforms"
#endif

#define OFFSET(type, field, expected) \
  _Static_assert(offsetof(type, field) == (expected), #type "." #field " moved")

/* Versioning fields first in every table the core reads. */
OFFSET(coffer_provider, struct_size, 0);
OFFSET(coffer_provider, abi_version, 4);
OFFSET(coffer_provider, name, 8);
OFFSET(coffer_provider, plugin_version, 16);
OFFSET(coffer_provider, description, 24);
OFFSET(coffer_provider, capabilities, 32);
OFFSET(coffer_provider, open, 40);
OFFSET(coffer_provider, close, 48);
OFFSET(coffer_provider, get, 56);
OFFSET(coffer_provider, put, 64);
OFFSET(coffer_provider, remove, 72);
OFFSET(coffer_provider, list, 80);
OFFSET(coffer_provider, health, 88);
OFFSET(coffer_provider, key_name, 96);
OFFSET(coffer_provider, admin, 104);
OFFSET(coffer_provider, cancel, 112);   /* since 1.2 */
OFFSET(coffer_provider, versions, 120); /* since 1.4 */
OFFSET(coffer_provider, purge, 128);    /* since 1.4 */
_Static_assert(sizeof(coffer_provider) >= 136, "coffer_provider shrank");

OFFSET(coffer_host, struct_size, 0);
OFFSET(coffer_host, abi_version, 4);
OFFSET(coffer_host, context, 8);
OFFSET(coffer_host, log, 16);
OFFSET(coffer_host, log_level, 24);
OFFSET(coffer_host, now_unix_ms, 32);
OFFSET(coffer_host, count, 40);           /* since 1.1 */
OFFSET(coffer_host, secret_allocate, 48); /* since 1.3 */
OFFSET(coffer_host, secret_free, 56);     /* since 1.3 */
_Static_assert(sizeof(coffer_host) >= 64, "coffer_host shrank");

OFFSET(coffer_value, struct_size, 0);
OFFSET(coffer_value, data, 8);
OFFSET(coffer_value, size, 16);
OFFSET(coffer_value, version, 24);
OFFSET(coffer_value, created_unix_ms, 32); /* since 1.4 */
_Static_assert(sizeof(coffer_value) >= 40, "coffer_value shrank");

OFFSET(coffer_version_entry, struct_size, 0); /* since 1.4 */
OFFSET(coffer_version_entry, version, 8);
OFFSET(coffer_version_entry, created_unix_ms, 16);
OFFSET(coffer_version_entry, enabled, 24);
_Static_assert(sizeof(coffer_version_entry) >= 28, "coffer_version_entry shrank");

OFFSET(coffer_list_entry, struct_size, 0);
OFFSET(coffer_list_entry, key, 8);
OFFSET(coffer_list_entry, name, 16);
OFFSET(coffer_list_entry, version, 24);
_Static_assert(sizeof(coffer_list_entry) >= 32, "coffer_list_entry shrank");

OFFSET(coffer_open_params, struct_size, 0);
OFFSET(coffer_open_params, instance_name, 8);
OFFSET(coffer_open_params, config_json, 16);
OFFSET(coffer_open_params, config_size, 24);
OFFSET(coffer_open_params, base_directory, 32);
_Static_assert(sizeof(coffer_open_params) >= 40, "coffer_open_params shrank");

OFFSET(coffer_get_request, struct_size, 0);
OFFSET(coffer_get_request, key, 8);
OFFSET(coffer_get_request, version, 16);
OFFSET(coffer_get_request, timeout_ms, 24);
OFFSET(coffer_get_request, flags, 28); /* since 1.5 */
_Static_assert(sizeof(coffer_get_request) >= 32, "coffer_get_request shrank");
_Static_assert(COFFER_GET_CALLER_WAITS == 1, "get flags changed");

/* Status and capability values are part of the ABI too. */
_Static_assert(COFFER_STATUS_OK == 0 && COFFER_STATUS_NOT_FOUND == 1 && COFFER_STATUS_DENIED == 2 &&
                   COFFER_STATUS_UNAVAILABLE == 3 && COFFER_STATUS_INVALID_ARGUMENT == 4 &&
                   COFFER_STATUS_UNSUPPORTED == 5 && COFFER_STATUS_TIMEOUT == 6 &&
                   COFFER_STATUS_INTERNAL == 7 && COFFER_STATUS_INVALID_CONFIG == 8 &&
                   COFFER_STATUS_DATA_ERROR == 9,
               "status codes changed");
_Static_assert(COFFER_CAP_GET == 1 && COFFER_CAP_PUT == 2 && COFFER_CAP_REMOVE == 4 &&
                   COFFER_CAP_LIST == 8 && COFFER_CAP_HEALTH == 16 && COFFER_CAP_VERSIONS == 32 &&
                   COFFER_CAP_KEY_NAME == 64 && COFFER_CAP_ADMIN == 128 &&
                   COFFER_CAP_HISTORY == 256 && COFFER_CAP_SOFT_DELETE == 512,
               "capability bits changed");
_Static_assert(sizeof(coffer_status) == 4, "coffer_status is not 32 bits");
_Static_assert(COFFER_ABI_VERSION == ((1u << 16) | COFFER_ABI_VERSION_MINOR),
               "ABI version encoding changed");

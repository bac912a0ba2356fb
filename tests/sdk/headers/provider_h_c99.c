/*
 * provider.h must compile as strict C99 (-std=c99 -pedantic -Werror -Wall
 * -Wextra): a plugin written in C includes nothing else. This file touches
 * every type and macro so that a construct C99 rejects cannot hide.
 */
#include <coffer/provider.h>

typedef char abi_major_is_1[COFFER_ABI_MAJOR(COFFER_ABI_VERSION) == 1u ? 1 : -1];
typedef char
    abi_minor_matches[COFFER_ABI_MINOR(COFFER_ABI_VERSION) == COFFER_ABI_VERSION_MINOR ? 1 : -1];

static const char entry_symbol[] = COFFER_PROVIDER_ENTRY_SYMBOL;

int provider_h_uses(const coffer_provider *table, coffer_provider_entry_fn entry);
int provider_h_uses(const coffer_provider *table, coffer_provider_entry_fn entry) {
  coffer_host host = {0};
  coffer_value value = {0};
  coffer_list_entry list_entry = {0};
  coffer_open_params params = {0};
  coffer_get_request request = {0};
  coffer_get_callback get_done = 0;
  coffer_done_callback done = 0;
  coffer_list_callback list_done = 0;
  coffer_admin_callback admin_done = 0;
  coffer_status statuses[] = {
      COFFER_STATUS_OK,          COFFER_STATUS_NOT_FOUND,        COFFER_STATUS_DENIED,
      COFFER_STATUS_UNAVAILABLE, COFFER_STATUS_INVALID_ARGUMENT, COFFER_STATUS_UNSUPPORTED,
      COFFER_STATUS_TIMEOUT,     COFFER_STATUS_INTERNAL,         COFFER_STATUS_INVALID_CONFIG,
      COFFER_STATUS_DATA_ERROR};
  int32_t levels[] = {COFFER_LOG_DEBUG, COFFER_LOG_INFO, COFFER_LOG_WARNING, COFFER_LOG_ERROR};
  uint64_t all = COFFER_CAP_GET | COFFER_CAP_PUT | COFFER_CAP_REMOVE | COFFER_CAP_LIST |
                 COFFER_CAP_HEALTH | COFFER_CAP_VERSIONS | COFFER_CAP_KEY_NAME | COFFER_CAP_ADMIN;
  (void)get_done, (void)done, (void)list_done, (void)admin_done;
  host.struct_size = sizeof host;
  value.struct_size = sizeof value;
  list_entry.struct_size = sizeof list_entry;
  params.struct_size = sizeof params;
  request.struct_size = sizeof request;
  return (int)(table->capabilities & all) + (entry != 0) + (int)sizeof statuses +
         (int)sizeof levels + (int)sizeof entry_symbol + entry_symbol[0] + (int)host.struct_size;
}

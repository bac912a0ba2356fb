/*
 * coffer.h, the C host API, must compile as strict C99 (-std=c99 -pedantic
 * -Werror -Wall -Wextra) so that C hosts and foreign-function bindings can use
 * it as is.
 */
#include <coffer/coffer.h>

int coffer_h_uses(coffer_store *store);
int coffer_h_uses(coffer_store *store) {
  coffer_secret *secret = 0;
  coffer_error *error = 0;
  coffer_code code = coffer_get(store, "VCS.GithubAdminPAT", &secret, &error);
  if (code != COFFER_OK) {
    const char *message = coffer_error_message(error);
    code = coffer_error_code(error);
    coffer_error_free(error);
    return message != 0 ? (int)code : -1;
  }
  code = (coffer_code)(coffer_secret_size(secret) + (coffer_secret_data(secret) != 0) +
                       (coffer_secret_version(secret) != 0));
  coffer_secret_free(secret);
  return (int)code + (int)sizeof(coffer_code_name(COFFER_DATA_ERROR));
}

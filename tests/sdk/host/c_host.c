/*
 * A C host built against an installed coffer with pkg-config:
 *
 *   cc c_host.c $(pkg-config --cflags --libs coffer)
 *   COFFER_PLUGIN_PATH=DIR c_host POLICY KEY EXPECTED_VALUE
 *
 * Reads one key through the C API and compares it with the expected value
 * (without printing either). Exits 0 on a match.
 */
#include <coffer/coffer.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  coffer_store *store = NULL;
  coffer_secret *secret = NULL;
  coffer_error *error = NULL;
  coffer_code code;
  int matches;
  if (argc != 4) {
    fprintf(stderr, "usage: c_host POLICY KEY EXPECTED_VALUE\n");
    return 2;
  }
  code = coffer_store_open(argv[1], &store, &error);
  if (code != COFFER_OK) {
    fprintf(stderr, "open: %s: %s\n", coffer_code_name(code), coffer_error_message(error));
    coffer_error_free(error);
    return 1;
  }
  code = coffer_get(store, argv[2], &secret, &error);
  if (code != COFFER_OK) {
    fprintf(stderr, "get %s: %s: %s\n", argv[2], coffer_code_name(code),
            coffer_error_message(error));
    coffer_error_free(error);
    coffer_store_close(store);
    return 1;
  }
  matches = coffer_secret_size(secret) == strlen(argv[3]) &&
            memcmp(coffer_secret_data(secret), argv[3], strlen(argv[3])) == 0;
  coffer_secret_free(secret);
  coffer_store_close(store);
  if (!matches) {
    fprintf(stderr, "%s: wrong value\n", argv[2]);
    return 1;
  }
  printf("%s: ok through the C API\n", argv[2]);
  return 0;
}

/* The C host API, used from C: open a store, get, put, remove, errors, and
 * the caller names that the audit log records. */
#define _XOPEN_SOURCE 700
#include <coffer/coffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* The whole of a small file, NUL-terminated, into `out`. */
static void read_text(const char *file, char *out, size_t capacity) {
  FILE *in = fopen(file, "rb");
  size_t n = 0;
  out[0] = '\0';
  if (in == NULL) return;
  n = fread(out, 1, capacity - 1, in);
  out[n] = '\0';
  fclose(in);
}

/* Callers named per store and per call reach the audit log. */
static void callers_are_audited(const char *plugin_dir) {
  char dir[] = "/tmp/coffer-c-api-XXXXXX";
  char policy[8192];
  char audit[256];
  char text[16384];
  coffer_store *store = NULL;
  coffer_secret *secret = NULL;
  coffer_error *error = NULL;
  const unsigned char value[] = "v";

  CHECK(mkdtemp(dir) != NULL);
  snprintf(audit, sizeof audit, "%s/audit.log", dir);
  snprintf(policy, sizeof policy,
           "{\"coffer\": 1, \"plugin_dirs\": [\"%s\"], \"providers\": {\"p\": {\"plugin\": "
           "\"memory\", \"config\": {\"values\": {\"Email.SMTPPassword\": \"x\"}}}}, "
           "\"routes\": {\"*\": \"p\"}, \"audit\": {\"file\": \"%s\"}}",
           plugin_dir, audit);
  CHECK(coffer_store_open_string(policy, strlen(policy), &store, NULL) == COFFER_OK);
  if (store == NULL) return;

  CHECK(coffer_store_set_caller(store, "c-host", NULL) == COFFER_OK);
  CHECK(coffer_get(store, "Email.SMTPPassword", &secret, NULL) == COFFER_OK);
  coffer_secret_free(secret);
  secret = NULL;
  CHECK(coffer_get_as(store, "Email.SMTPPassword", "c-batch", &secret, NULL) == COFFER_OK);
  coffer_secret_free(secret);
  secret = NULL;
  CHECK(coffer_put_as(store, "VCS.GithubAdminPAT", value, 1, "c-writer", NULL) == COFFER_OK);
  CHECK(coffer_remove_as(store, "VCS.GithubAdminPAT", "c-remover", NULL) == COFFER_OK);
  CHECK(coffer_store_set_caller(store, "bad\nname", &error) == COFFER_INVALID_ARGUMENT);
  CHECK(error != NULL && strstr(coffer_error_message(error), "control characters") != NULL);
  coffer_error_free(error);
  error = NULL;
  CHECK(coffer_get_as(store, "Email.SMTPPassword", "bad\x01", &secret, NULL) ==
        COFFER_INVALID_ARGUMENT);
  CHECK(secret == NULL);
  coffer_store_close(store);

  read_text(audit, text, sizeof text);
  CHECK(strstr(text, "\"caller\":\"c-host\"") != NULL);
  CHECK(strstr(text, "\"caller\":\"c-batch\"") != NULL);
  CHECK(strstr(text, "\"caller\":\"c-writer\"") != NULL);
  CHECK(strstr(text, "\"caller\":\"c-remover\"") != NULL);
  CHECK(strstr(text, "bad") == NULL);
  remove(audit);
  remove(dir);
}

int main(int argc, char **argv) {
  char policy[4096];
  coffer_store *store = NULL;
  coffer_secret *secret = NULL;
  coffer_error *error = NULL;
  coffer_code code;
  const unsigned char value[] = "c-value";

  if (argc != 2) {
    fprintf(stderr, "usage: %s PLUGIN_DIR\n", argv[0]);
    return 2;
  }
  snprintf(policy, sizeof policy,
           "{\"coffer\": 1, \"plugin_dirs\": [\"%s\"], \"providers\": {\"p\": {\"plugin\": "
           "\"memory\", \"config\": {\"values\": {\"Email.SMTPPassword\": \"from-c\"}}}}, "
           "\"routes\": {\"*\": \"p\"}}",
           argv[1]);

  code = coffer_store_open_string(policy, strlen(policy), &store, &error);
  CHECK(code == COFFER_OK);
  CHECK(error == NULL);
  if (store == NULL) return 1;

  code = coffer_get(store, "Email.SMTPPassword", &secret, &error);
  CHECK(code == COFFER_OK);
  CHECK(coffer_secret_size(secret) == 6);
  CHECK(memcmp(coffer_secret_data(secret), "from-c", 6) == 0);
  coffer_secret_free(secret);
  secret = NULL;

  code = coffer_get(store, "VCS.GithubAdminPAT", &secret, &error);
  CHECK(code == COFFER_NOT_FOUND);
  CHECK(secret == NULL);
  CHECK(error != NULL && coffer_error_code(error) == COFFER_NOT_FOUND);
  CHECK(error != NULL && strstr(coffer_error_message(error), "VCS.GithubAdminPAT") != NULL);
  CHECK(strcmp(coffer_code_name(code), "not_found") == 0);
  coffer_error_free(error);
  error = NULL;

  code = coffer_put(store, "VCS.GithubAdminPAT", value, sizeof value - 1, &error);
  CHECK(code == COFFER_OK);
  code = coffer_get(store, "VCS.GithubAdminPAT", &secret, NULL);
  CHECK(code == COFFER_OK);
  CHECK(secret != NULL && coffer_secret_size(secret) == sizeof value - 1);
  CHECK(secret != NULL && strlen(coffer_secret_version(secret)) > 0);
  coffer_secret_free(secret);

  code = coffer_remove(store, "VCS.GithubAdminPAT", NULL);
  CHECK(code == COFFER_OK);
  code = coffer_get(store, "Nope.Key", &secret, &error);
  CHECK(code == COFFER_INVALID_ARGUMENT);
  coffer_error_free(error);
  error = NULL;

  code = coffer_reload(store, &error);
  CHECK(code == COFFER_OK);
  coffer_store_close(store);

  code = coffer_store_open_string("{\"coffer\": 1,", 13, &store, &error);
  CHECK(code == COFFER_INVALID_CONFIG);
  CHECK(error != NULL && strstr(coffer_error_message(error), "<string>:1:") != NULL);
  coffer_error_free(error);
  coffer_error_free(NULL);
  coffer_secret_free(NULL);
  coffer_store_close(NULL);

  callers_are_audited(argv[1]);

  if (failures == 0) printf("c api: all checks passed\n");
  return failures == 0 ? 0 : 1;
}

/*
 * Shared by the C test plugins: an instance that serves one fixed key, so
 * that each plugin's file only shows what makes it a test case (its table or
 * its entry point).
 */
#ifndef COFFER_TESTS_SDK_FIXED_VALUE_H
#define COFFER_TESTS_SDK_FIXED_VALUE_H

#include <coffer/provider.h>
#include <stdlib.h>
#include <string.h>

struct coffer_instance {
  int unused;
};

static coffer_status fixed_open(const coffer_host *host, const coffer_open_params *params,
                                coffer_instance **instance, char *error, size_t capacity) {
  (void)host, (void)params, (void)error, (void)capacity;
  *instance = (coffer_instance *)calloc(1, sizeof(coffer_instance));
  return *instance != NULL ? COFFER_STATUS_OK : COFFER_STATUS_INTERNAL;
}

static void fixed_close(coffer_instance *instance) {
  free(instance);
}

/* Serves FIXED_KEY with FIXED_VALUE; every other key is not found. */
static void fixed_get(coffer_instance *instance, const coffer_get_request *request,
                      coffer_get_callback done, void *context) {
  static const char value_text[] = FIXED_VALUE;
  coffer_value value;
  (void)instance;
  if (strcmp(request->key, FIXED_KEY) != 0) {
    done(context, COFFER_STATUS_NOT_FOUND, NULL, "only " FIXED_KEY " is served here");
    return;
  }
  memset(&value, 0, sizeof value);
  value.struct_size = sizeof value;
  value.data = (const unsigned char *)value_text;
  value.size = sizeof value_text - 1;
  value.version = "v1";
  done(context, COFFER_STATUS_OK, &value, NULL);
}

#endif /* COFFER_TESTS_SDK_FIXED_VALUE_H */

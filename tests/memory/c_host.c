/*
 * A small C host for the core-dump tests (dump_tests.cpp): reads keys through
 * the C API, frees them, and waits so that the test can look at its memory.
 *
 *   memory_c_host POLICY [--copy-into-heap] [--copy-file FILE]... KEY...
 *
 * Prints "ready N" once the N keys are read and freed (and the Store is still
 * open), then reads commands from standard input, one per line: "close"
 * closes the Store and prints "closed"; "exit" (or end of input) ends with 0.
 * The control options leave copies in ordinary heap memory, where the tests
 * must find them: each value read (--copy-into-heap) and each FILE's content.
 * Never prints a value.
 */
#define _GNU_SOURCE
#include <coffer/coffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

static int fail(const char *what, coffer_error *error) {
  fprintf(stderr, "%s: %s\n", what, coffer_error_message(error));
  coffer_error_free(error);
  return 1;
}

/* The control's copies, published so that the compiler keeps them. */
static void *volatile heap_copies[64];
static int heap_copy_count;

/* Leaves a copy of `size` bytes in the ordinary heap, never freed. */
static void leave_in_heap(const void *data, size_t size) {
  void *copy = malloc(size);
  if (copy == NULL || heap_copy_count == 64) return;
  memcpy(copy, data, size);
  heap_copies[heap_copy_count++] = copy;
}

static void copy_file_into_heap(const char *path) {
  char buffer[4096];
  size_t size;
  FILE *file = fopen(path, "rb");
  if (file == NULL) return;
  size = fread(buffer, 1, sizeof buffer, file);
  fclose(file);
  leave_in_heap(buffer, size);
  memset(buffer, 0, sizeof buffer);
}

static int wait_for(const char *command) {
  char line[64];
  if (fgets(line, sizeof line, stdin) == NULL) return 0;
  return strncmp(line, command, strlen(command)) == 0;
}

int main(int argc, char **argv) {
  coffer_store *store = NULL;
  coffer_error *error = NULL;
  int copy_values = 0, keys = 0, i;
  if (argc < 3) {
    fprintf(stderr,
            "usage: memory_c_host POLICY [--copy-into-heap] [--copy-file FILE]... KEY...\n");
    return 2;
  }
  /* Lets a debugger that is not this process's parent (gcore) attach where
   * the Yama LSM would refuse it; ignored elsewhere. */
  prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
  if (coffer_store_open(argv[1], &store, &error) != COFFER_OK) return fail("open", error);
  for (i = 2; i < argc; ++i) {
    coffer_secret *secret = NULL;
    if (strcmp(argv[i], "--copy-into-heap") == 0) {
      copy_values = 1;
      continue;
    }
    if (strcmp(argv[i], "--copy-file") == 0 && i + 1 < argc) {
      copy_file_into_heap(argv[++i]);
      continue;
    }
    if (coffer_get(store, argv[i], &secret, &error) != COFFER_OK) return fail(argv[i], error);
    if (copy_values) leave_in_heap(coffer_secret_data(secret), coffer_secret_size(secret));
    coffer_secret_free(secret);
    ++keys;
  }
  printf("ready %d\n", keys);
  fflush(stdout);
  if (wait_for("close")) {
    coffer_store_close(store);
    store = NULL;
    printf("closed\n");
    fflush(stdout);
    wait_for("exit");
  }
  coffer_store_close(store);
  return 0;
}

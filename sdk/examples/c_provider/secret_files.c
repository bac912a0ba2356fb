/*
 * secret_files: an example coffer provider written in plain C99 against the
 * raw ABI of <coffer/provider.h>, without the C++ SDK.
 *
 * It serves each key from a file of the same name in one directory, the way
 * Kubernetes mounts a Secret as a volume and Docker mounts its secrets:
 *
 *   "providers": {
 *     "mounted": { "plugin": "secret_files",
 *                  "config": { "directory": "/run/secrets" } } }
 *
 * `VCS.GithubAdminPAT` is read from /run/secrets/VCS.GithubAdminPAT, byte for
 * byte (a trailing newline is part of the value). A relative directory is
 * resolved against the policy file's directory.
 *
 * What it shows: the versioned table and the entry point, open/close and the
 * instance handle, completions called exactly once (here always before the
 * operation returns, which the ABI allows), statuses with messages that name
 * what failed and never a value, key_name and list, reading only the host
 * fields that lie within the host's struct_size, and keeping values in the
 * core's secret memory (ABI 1.3), or wiping them by hand with an older core.
 *
 * Threading: an instance never changes after open(), and every operation uses
 * only its own descriptors and buffers, so the core may call them from any
 * number of threads at once.
 */
#define _POSIX_C_SOURCE 200809L

#include <coffer/provider.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Values larger than this are refused (Kubernetes caps a Secret at 1 MiB). */
#define MAX_VALUE_SIZE (1024u * 1024u)
/* Room for a message naming a file: the path, a key and the system's reason. */
#define MESSAGE_SIZE (PATH_MAX + 1024)

struct coffer_instance {
  const coffer_host *host; /* lent by the core until close() returns */
  int directory_fd;        /* the directory, opened once in open() */
  char directory[PATH_MAX];
  char name[128]; /* the policy's name for this instance, for messages */
};

/* ------------------------------------------------------------------------ */
/* Small utilities                                                           */

/* Overwrites memory through a volatile pointer so the compiler keeps it. */
static void wipe(void *data, size_t size) {
  volatile unsigned char *bytes = (volatile unsigned char *)data;
  while (size-- > 0) *bytes++ = 0;
}

/* A buffer for a value: the core's secret memory (ABI 1.3: excluded from core
 * dumps, locked where the system allows, wiped when freed) when the host
 * lends it, the ordinary heap otherwise. */
static unsigned char *allocate_secret(const struct coffer_instance *self, size_t size) {
  if (COFFER_HOST_HAS_SECRET_MEMORY(self->host))
    return (unsigned char *)self->host->secret_allocate(size);
  return (unsigned char *)malloc(size);
}

/* Wipes and frees a buffer of allocate_secret(`size`). */
static void free_secret(const struct coffer_instance *self, unsigned char *buffer, size_t size) {
  if (COFFER_HOST_HAS_SECRET_MEMORY(self->host)) {
    self->host->secret_free(buffer, size);
    return;
  }
  wipe(buffer, size);
  free(buffer);
}

static void log_line(const struct coffer_instance *self, int32_t level, const char *message) {
  const coffer_host *host = self->host;
  /* The rule for every structure that crosses the boundary: read a field
   * only if it lies within the struct_size the other side gave. */
  if (host->struct_size < offsetof(coffer_host, log) + sizeof host->log) return;
  if (host->log != NULL) host->log(host->context, level, message);
}

/* A canonical key (coffer_is_canonical_key, <coffer/provider.h>) is also a
 * safe file name: letters, digits and one dot, never "." or "..". */
static int is_canonical_key(const char *key) {
  return coffer_is_canonical_key(key, strlen(key));
}

static void describe_errno(int error, char *buffer, size_t capacity) {
  if (strerror_r(error, buffer, capacity) != 0) snprintf(buffer, capacity, "error %d", error);
}

/* ------------------------------------------------------------------------ */
/* Configuration: {"directory": "<path>"}                                    */

/* A deliberately small JSON reader for this one shape. A provider with a
 * richer configuration should use a real JSON library. */
typedef struct cursor {
  const char *at;
  const char *end;
} cursor;

static void skip_space(cursor *c) {
  while (c->at < c->end && (*c->at == ' ' || *c->at == '\t' || *c->at == '\n' || *c->at == '\r'))
    ++c->at;
}

static int consume(cursor *c, char expected) {
  skip_space(c);
  if (c->at < c->end && *c->at == expected) {
    ++c->at;
    return 1;
  }
  return 0;
}

/* Reads a JSON string into `out` (NUL-terminated). Returns 0, or -1 when the
 * text is not a string this reader understands or does not fit. */
static int read_string(cursor *c, char *out, size_t capacity) {
  size_t length = 0;
  if (!consume(c, '"')) return -1;
  while (c->at < c->end && *c->at != '"') {
    char ch = *c->at++;
    if (ch == '\\') {
      if (c->at == c->end) return -1;
      switch (*c->at++) {
        case '"':
          ch = '"';
          break;
        case '\\':
          ch = '\\';
          break;
        case '/':
          ch = '/';
          break;
        case 'n':
          ch = '\n';
          break;
        case 't':
          ch = '\t';
          break;
        default:
          return -1; /* \u, \b, \f, \r: not needed for paths here */
      }
    }
    if (length + 1 >= capacity) return -1;
    out[length++] = ch;
  }
  if (!consume(c, '"')) return -1;
  out[length] = '\0';
  return 0;
}

static coffer_status parse_config(const coffer_open_params *params, char *directory,
                                  size_t capacity, char *error, size_t error_capacity) {
  cursor c;
  char field[64];
  int have_directory = 0;
  c.at = params->config_json;
  c.end = params->config_json + params->config_size;
  if (!consume(&c, '{')) {
    snprintf(error, error_capacity, "config: expected an object");
    return COFFER_STATUS_INVALID_CONFIG;
  }
  if (!consume(&c, '}')) {
    do {
      if (read_string(&c, field, sizeof field) != 0 || !consume(&c, ':')) {
        snprintf(error, error_capacity, "config: expected \"directory\": \"<path>\"");
        return COFFER_STATUS_INVALID_CONFIG;
      }
      if (strcmp(field, "directory") != 0) {
        snprintf(error, error_capacity, "config.%s: unknown field (expected: directory)", field);
        return COFFER_STATUS_INVALID_CONFIG;
      }
      if (read_string(&c, directory, capacity) != 0 || directory[0] == '\0') {
        snprintf(error, error_capacity, "config.directory: expected a non-empty path string");
        return COFFER_STATUS_INVALID_CONFIG;
      }
      have_directory = 1;
    } while (consume(&c, ','));
    if (!consume(&c, '}')) {
      snprintf(error, error_capacity, "config: expected '}' after the last field");
      return COFFER_STATUS_INVALID_CONFIG;
    }
  }
  if (!have_directory) {
    snprintf(error, error_capacity, "config.directory: required (the directory of secret files)");
    return COFFER_STATUS_INVALID_CONFIG;
  }
  return COFFER_STATUS_OK;
}

/* ------------------------------------------------------------------------ */
/* The operations                                                            */

static coffer_status provider_open(const coffer_host *host, const coffer_open_params *params,
                                   coffer_instance **instance, char *error, size_t error_capacity) {
  char configured[PATH_MAX];
  char reason[128];
  const char *base = NULL;
  struct coffer_instance *self;
  coffer_status status;
  int written;

  status = parse_config(params, configured, sizeof configured, error, error_capacity);
  if (status != COFFER_STATUS_OK) return status;

  self = (struct coffer_instance *)calloc(1, sizeof *self);
  if (self == NULL) {
    snprintf(error, error_capacity, "out of memory");
    return COFFER_STATUS_INTERNAL;
  }
  self->host = host;
  snprintf(self->name, sizeof self->name, "%s",
           params->instance_name != NULL ? params->instance_name : "?");

  /* base_directory was added after the first fields: check struct_size. */
  if (params->struct_size >= offsetof(coffer_open_params, base_directory) + sizeof(const char *))
    base = params->base_directory;
  if (configured[0] == '/' || base == NULL)
    written = snprintf(self->directory, sizeof self->directory, "%s", configured);
  else
    written = snprintf(self->directory, sizeof self->directory, "%s/%s", base, configured);
  if (written < 0 || (size_t)written >= sizeof self->directory) {
    snprintf(error, error_capacity, "config.directory: the path is too long");
    free(self);
    return COFFER_STATUS_INVALID_CONFIG;
  }

  self->directory_fd = open(self->directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (self->directory_fd < 0) {
    describe_errno(errno, reason, sizeof reason);
    snprintf(error, error_capacity, "config.directory: cannot open %s: %s", self->directory,
             reason);
    free(self);
    return COFFER_STATUS_INVALID_CONFIG;
  }
  {
    char line[PATH_MAX + 64];
    snprintf(line, sizeof line, "serving files from %s", self->directory);
    log_line(self, COFFER_LOG_INFO, line);
  }
  *instance = self;
  return COFFER_STATUS_OK;
}

/* The core calls close() once, after every operation has completed. */
static void provider_close(coffer_instance *self) {
  if (self == NULL) return;
  close(self->directory_fd);
  free(self);
}

static void provider_get(coffer_instance *self, const coffer_get_request *request,
                         coffer_get_callback done, void *context) {
  char message[MESSAGE_SIZE];
  char reason[128];
  struct stat st;
  coffer_value value;
  unsigned char *buffer;
  size_t size = 0, capacity;
  int fd;

  /* This provider keeps no history (it does not set COFFER_CAP_VERSIONS). */
  if (request->version != NULL) {
    snprintf(message, sizeof message, "provider '%s' has no versions; cannot read %s at '%s'",
             self->name, request->key, request->version);
    done(context, COFFER_STATUS_UNSUPPORTED, NULL, message);
    return;
  }
  if (!is_canonical_key(request->key)) {
    snprintf(message, sizeof message, "'%s' is not a canonical key (Category.Name)", request->key);
    done(context, COFFER_STATUS_INVALID_ARGUMENT, NULL, message);
    return;
  }
  fd = openat(self->directory_fd, request->key, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int error = errno;
    describe_errno(error, reason, sizeof reason);
    snprintf(message, sizeof message, "%s/%s: %s", self->directory, request->key, reason);
    done(context,
         error == ENOENT                     ? COFFER_STATUS_NOT_FOUND
         : error == EACCES || error == EPERM ? COFFER_STATUS_DENIED
                                             : COFFER_STATUS_UNAVAILABLE,
         NULL, message);
    return;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > MAX_VALUE_SIZE) {
    snprintf(message, sizeof message, "%s/%s is not a regular file of at most %u bytes",
             self->directory, request->key, MAX_VALUE_SIZE);
    close(fd);
    done(context, COFFER_STATUS_DATA_ERROR, NULL, message);
    return;
  }
  /* One byte more than the file's size, to notice a file that grew. */
  capacity = (size_t)st.st_size + 1;
  buffer = allocate_secret(self, capacity);
  if (buffer == NULL) {
    close(fd);
    done(context, COFFER_STATUS_INTERNAL, NULL, "out of memory");
    return;
  }
  while (size <= (size_t)st.st_size) {
    ssize_t n = read(fd, buffer + size, (size_t)st.st_size + 1 - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      describe_errno(errno, reason, sizeof reason);
      snprintf(message, sizeof message, "%s/%s: %s", self->directory, request->key, reason);
      free_secret(self, buffer, capacity);
      close(fd);
      done(context, COFFER_STATUS_UNAVAILABLE, NULL, message);
      return;
    }
    if (n == 0) break;
    size += (size_t)n;
  }
  close(fd);
  if (size > (size_t)st.st_size) {
    snprintf(message, sizeof message, "%s/%s changed while it was read; try again", self->directory,
             request->key);
    free_secret(self, buffer, capacity);
    done(context, COFFER_STATUS_UNAVAILABLE, NULL, message);
    return;
  }

  /* The value is valid only during the callback: the core copies it into
   * locked memory. Free (and wipe) our buffer as soon as it returns. No
   * version: the core then tells versions apart by a keyed digest. */
  memset(&value, 0, sizeof value);
  value.struct_size = sizeof value;
  value.data = buffer;
  value.size = size;
  value.version = NULL;
  done(context, COFFER_STATUS_OK, &value, NULL);
  free_secret(self, buffer, capacity);
}

static void provider_list(coffer_instance *self, coffer_list_callback done, void *context) {
  char message[MESSAGE_SIZE];
  char reason[128];
  coffer_list_entry *entries = NULL;
  size_t count = 0, capacity = 0, i;
  struct dirent *entry;
  DIR *directory;
  /* A fresh open file description: concurrent lists must not share a
   * directory offset, as they would through dup(). */
  int fd = openat(self->directory_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

  if (fd < 0 || (directory = fdopendir(fd)) == NULL) {
    describe_errno(errno, reason, sizeof reason);
    snprintf(message, sizeof message, "cannot list %s: %s", self->directory, reason);
    if (fd >= 0) close(fd);
    done(context, COFFER_STATUS_UNAVAILABLE, NULL, 0, message);
    return;
  }
  while ((entry = readdir(directory)) != NULL) {
    struct stat st;
    char *name;
    /* Hidden entries include Kubernetes' ..data bookkeeping links. */
    if (entry->d_name[0] == '.') continue;
    if (fstatat(fd, entry->d_name, &st, 0) != 0 || !S_ISREG(st.st_mode)) continue;
    if (count == capacity) {
      size_t grown = capacity == 0 ? 16 : capacity * 2;
      coffer_list_entry *bigger =
          (coffer_list_entry *)realloc(entries, grown * sizeof(coffer_list_entry));
      if (bigger == NULL) break;
      entries = bigger;
      capacity = grown;
    }
    name = strdup(entry->d_name);
    if (name == NULL) break;
    memset(&entries[count], 0, sizeof entries[count]);
    entries[count].struct_size = sizeof(coffer_list_entry);
    entries[count].name = name;
    /* A file whose name is not a canonical key is listed without a key. */
    entries[count].key = is_canonical_key(name) ? name : NULL;
    entries[count].version = NULL;
    ++count;
  }
  closedir(directory); /* closes fd too */
  if (entry != NULL) {
    done(context, COFFER_STATUS_INTERNAL, NULL, 0, "out of memory while listing");
  } else {
    done(context, COFFER_STATUS_OK, count > 0 ? entries : NULL, count, NULL);
  }
  for (i = 0; i < count; ++i) free((void *)entries[i].name);
  free(entries);
}

static void provider_health(coffer_instance *self, coffer_done_callback done, void *context) {
  char message[MESSAGE_SIZE];
  char reason[128];
  int fd = openat(self->directory_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    describe_errno(errno, reason, sizeof reason);
    snprintf(message, sizeof message, "cannot read %s: %s", self->directory, reason);
    done(context, COFFER_STATUS_UNAVAILABLE, NULL, message);
    return;
  }
  close(fd);
  snprintf(message, sizeof message, "reading %s", self->directory);
  done(context, COFFER_STATUS_OK, NULL, message);
}

/* Synchronous and without I/O: the name is the file the key is read from. */
static coffer_status provider_key_name(coffer_instance *self, const char *key, char *name,
                                       size_t name_capacity, size_t *name_size, char *error,
                                       size_t error_capacity) {
  int length;
  if (!is_canonical_key(key)) {
    snprintf(error, error_capacity, "'%s' is not a canonical key (Category.Name)", key);
    return COFFER_STATUS_INVALID_ARGUMENT;
  }
  length = snprintf(name, name_capacity, "%s/%s", self->directory, key);
  if (length < 0) {
    snprintf(error, error_capacity, "cannot format the file name of %s", key);
    return COFFER_STATUS_INTERNAL;
  }
  *name_size = (size_t)length;
  if ((size_t)length >= name_capacity) {
    snprintf(error, error_capacity, "name buffer too small for %s (%d bytes needed)", key,
             length + 1);
    return COFFER_STATUS_INVALID_ARGUMENT;
  }
  return COFFER_STATUS_OK;
}

/* ------------------------------------------------------------------------ */
/* The table and the one exported symbol                                     */

static const coffer_provider table = {
    /* .struct_size tells the core how much of the table this plugin knows;
     * a core built with a newer minor version reads nothing beyond it. */
    .struct_size = sizeof(coffer_provider),
    .abi_version = COFFER_ABI_VERSION,
    .name = "secret_files", /* equals the file name, libsecret_files.so */
    .plugin_version = "1.0.0",
    .description = "Example provider in C: one file per key in a directory",
    .capabilities = COFFER_CAP_GET | COFFER_CAP_LIST | COFFER_CAP_HEALTH | COFFER_CAP_KEY_NAME,
    .open = provider_open,
    .close = provider_close,
    .get = provider_get,
    .put = NULL, /* read-only: hosts get COFFER_STATUS_UNSUPPORTED */
    .remove = NULL,
    .list = provider_list,
    .health = provider_health,
    .key_name = provider_key_name,
    .admin = NULL,
};

COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(uint32_t core_abi_version);

/* Returns the table to a core of the same major ABI version, NULL otherwise
 * (the core then refuses the plugin with a message naming both versions). */
COFFER_PROVIDER_EXPORT const coffer_provider *coffer_provider_entry(uint32_t core_abi_version) {
  if (COFFER_ABI_MAJOR(core_abi_version) != COFFER_ABI_VERSION_MAJOR) return NULL;
  return &table;
}

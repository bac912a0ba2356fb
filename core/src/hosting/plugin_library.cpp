#include "hosting/plugin_library.hpp"

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <coffer/error.hpp>
#include <coffer/file_descriptor.hpp>
#include <coffer/provider_helpers.hpp>

#include <boost/dll/shared_library.hpp>

#include <cstring>
#include <system_error>
#include <utility>

#include "base/trusted_file.hpp"

namespace coffer::detail {
namespace {

std::string version_text(uint32_t version) {
  return std::to_string(COFFER_ABI_MAJOR(version)) + "." +
         std::to_string(COFFER_ABI_MINOR(version));
}

// Closes a descriptor on scope exit.
struct SegmentQuery {
  ElfW(Addr) base;
  const char *name;
  std::uintptr_t address;
  bool executable = false;
};

int find_segment(struct dl_phdr_info *info, std::size_t, void *data) {
  auto *query = static_cast<SegmentQuery *>(data);
  if (info->dlpi_addr != query->base || std::strcmp(info->dlpi_name, query->name) != 0) return 0;
  for (ElfW(Half) i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &segment = info->dlpi_phdr[i];
    std::uintptr_t start = info->dlpi_addr + segment.p_vaddr;
    if (segment.p_type == PT_LOAD && query->address >= start &&
        query->address < start + segment.p_memsz)
      query->executable = (segment.p_flags & PF_X) != 0;
  }
  return 1;
}

// Why the entry symbol of a loaded library cannot be called (empty: it can):
// it must be a function defined by the library itself, in an executable
// segment. Calling a data symbol, or one that a dependency defines, would
// crash the process or run code nobody checked.
std::string entry_problem(void *handle) {
  void *address = ::dlsym(handle, COFFER_PROVIDER_ENTRY_SYMBOL);
  struct link_map *library = nullptr;
  if (address == nullptr || ::dlinfo(handle, RTLD_DI_LINKMAP, &library) != 0) return {};
  Dl_info info{};
  void *symbol_entry = nullptr;
  void *owner = nullptr;
  if (::dladdr1(address, &info, &symbol_entry, RTLD_DL_SYMENT) == 0 ||
      ::dladdr1(address, &info, &owner, RTLD_DL_LINKMAP) == 0 || owner != library)
    return std::string("its ") + COFFER_PROVIDER_ENTRY_SYMBOL +
           " is not defined by the plugin itself";
  const auto *symbol = static_cast<const ElfW(Sym) *>(symbol_entry);
  // ELF32_ST_TYPE and ELF64_ST_TYPE are the same: the low four bits.
  if (symbol == nullptr || ELF64_ST_TYPE(symbol->st_info) != STT_FUNC)
    return std::string("it exports ") + COFFER_PROVIDER_ENTRY_SYMBOL +
           " as data, not as a function (is it a coffer provider plugin built with the coffer "
           "SDK?)";
  SegmentQuery query{library->l_addr, library->l_name, reinterpret_cast<std::uintptr_t>(address)};
  ::dl_iterate_phdr(find_segment, &query);
  if (!query.executable)
    return std::string("its ") + COFFER_PROVIDER_ENTRY_SYMBOL +
           " does not lie in an executable segment";
  return {};
}

}  // namespace

// The library is loaded through /proc/self/fd/N of the descriptor that was
// checked. The dynamic loader recognises loaded objects by that name, so the
// descriptor stays open while the library is loaded: otherwise another plugin
// opened later could get the same N and be mistaken for this one.
struct PluginLibrary::Handle {
  boost::dll::shared_library library;
  int fd = -1;
  std::string fd_path;

  ~Handle() {
    library.unload();
    if (fd < 0) return;
    // A library that cannot be unloaded (it has unique symbols, or another
    // reference holds it) keeps its name: then its descriptor must stay open
    // for the life of the process.
    if (void *resident = ::dlopen(fd_path.c_str(), RTLD_LAZY | RTLD_NOLOAD)) {
      ::dlclose(resident);
      return;
    }
    ::close(fd);
  }
};

PluginLibrary::~PluginLibrary() = default;

std::string unsafe_reason(const std::filesystem::path &path) {
  return untrusted_directory_reason(path);
}

std::filesystem::path find_plugin(const std::string &name,
                                  const std::vector<std::filesystem::path> &dirs) {
  std::string looked;
  for (const auto &dir : dirs) {
    for (const std::string &file : {"lib" + name + ".so", name + ".so"}) {
      std::filesystem::path candidate = dir / file;
      std::error_code ec;
      if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
    }
    looked += (looked.empty() ? "" : ", ") + dir.string();
  }
  if (looked.empty()) looked = "(no plugin directories configured)";
  throw Error(Code::invalid_config, "plugin '" + name + "' not found: looked for lib" + name +
                                        ".so in " + looked +
                                        "; set plugin_dirs in the policy or COFFER_PLUGIN_PATH");
}

std::string sha256_of_fd(int fd) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
    throw Error(Code::internal, "cannot initialise SHA-256");
  unsigned char buffer[65536];
  ::lseek(fd, 0, SEEK_SET);
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      throw Error(Code::invalid_config, std::string("cannot read plugin: ") + std::strerror(errno));
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buffer, static_cast<std::size_t>(n));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &size);
  return provider::to_hex(std::span<const unsigned char>(digest, size));
}

std::shared_ptr<PluginLibrary> PluginLibrary::load(const std::filesystem::path &file,
                                                   const std::optional<std::string> &sha256,
                                                   const std::string &expected_name) {
  const std::string name = file.string();
  auto refuse = [&](const std::string &why) -> Error {
    return Error(Code::invalid_config, "plugin " + name + " refused: " + why);
  };
  if (std::string why = untrusted_location_reason(file); !why.empty())
    throw refuse("its directory is unsafe: " + why);
  provider::FileDescriptor fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) throw refuse(std::string("cannot open it: ") + std::strerror(errno));
  struct stat st {};
  ::fstat(fd.get(), &st);
  if (!S_ISREG(st.st_mode)) throw refuse("not a regular file");
  if (std::string why = untrusted_file_reason(st, file); !why.empty()) throw refuse(why);
  if (sha256) {
    std::string actual = sha256_of_fd(fd.get());
    if (actual != *sha256)
      throw refuse("its SHA-256 is " + actual + " but the policy pins " + *sha256 +
                   "; if the plugin was upgraded on purpose, update the pin");
  }

  std::shared_ptr<PluginLibrary> self(new PluginLibrary());
  self->file_ = file;
  self->handle_ = std::make_unique<Handle>();
  // Load through the descriptor we checked (and hashed), so that the file
  // cannot be swapped between the check and the load.
  std::string fd_path = "/proc/self/fd/" + std::to_string(fd.get());
  self->handle_->fd = fd.release();
  self->handle_->fd_path = fd_path;
  std::error_code ec;
  self->handle_->library.load(boost::dll::fs::path(fd_path),
                              boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local,
                              ec);
  if (ec) {
    // dlerror() explains better than the error code ("invalid ELF header").
    std::string detail = ec.message();
    if (const char *why = ::dlerror(); why != nullptr) detail = why;
    auto pos = detail.find(fd_path);
    if (pos != std::string::npos) detail.replace(pos, fd_path.size(), name);
    throw refuse("it is not a loadable shared object (" + detail + ")");
  }
#ifdef COFFER_PLUGINS_STAY_LOADED
  // LeakSanitizer (LLVM 14) keeps scanning the dynamic TLS block it recorded for
  // a library after dlclose freed it, and its stop-the-world thread crashes on
  // the stale entry at exit. In AddressSanitizer builds a plugin therefore stays
  // mapped once loaded (which its leak reports need to name its frames anyway).
  if (void *resident = ::dlopen(fd_path.c_str(), RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE))
    ::dlclose(resident);
#endif
  if (!self->handle_->library.has(COFFER_PROVIDER_ENTRY_SYMBOL))
    throw refuse("it does not export " + std::string(COFFER_PROVIDER_ENTRY_SYMBOL) +
                 " (is it a coffer provider plugin built with the coffer SDK?)");
  if (std::string why = entry_problem(self->handle_->library.native()); !why.empty())
    throw refuse(why);
  auto entry =
      self->handle_->library.get<const coffer_provider *(uint32_t)>(COFFER_PROVIDER_ENTRY_SYMBOL);
  const coffer_provider *table = entry(COFFER_ABI_VERSION);
  if (table == nullptr)
    throw refuse("it declined to work with this core's ABI version " +
                 version_text(COFFER_ABI_VERSION) + "; use a plugin built for ABI " +
                 std::to_string(COFFER_ABI_VERSION_MAJOR) + ".x");
  uint32_t size = table->struct_size;
  if (size < offsetof(coffer_provider, get) + sizeof(table->get))
    throw refuse("its provider table is too short (" + std::to_string(size) + " bytes)");
  if (COFFER_ABI_MAJOR(table->abi_version) != COFFER_ABI_VERSION_MAJOR)
    throw refuse("it was built for coffer ABI " + version_text(table->abi_version) +
                 " but this core implements ABI " + version_text(COFFER_ABI_VERSION) +
                 "; rebuild the plugin against the coffer " +
                 std::to_string(COFFER_ABI_VERSION_MAJOR) + ".x SDK");
  std::memcpy(&self->table_, table, std::min<std::size_t>(size, sizeof(coffer_provider)));
  self->table_.struct_size = size;
  if (self->table_.name == nullptr || self->table_.open == nullptr ||
      self->table_.close == nullptr || self->table_.get == nullptr)
    throw refuse("its provider table lacks name, open, close or get");
  if (!expected_name.empty() && expected_name != self->table_.name)
    throw refuse("it calls itself '" + std::string(self->table_.name) + "', not '" + expected_name +
                 "'");
  // A capability counts only if its function is there.
  auto keep = [&](uint64_t bit, const void *fn) {
    if (fn == nullptr) self->table_.capabilities &= ~bit;
  };
  keep(COFFER_CAP_PUT, reinterpret_cast<const void *>(self->table_.put));
  keep(COFFER_CAP_REMOVE, reinterpret_cast<const void *>(self->table_.remove));
  keep(COFFER_CAP_LIST, reinterpret_cast<const void *>(self->table_.list));
  keep(COFFER_CAP_HEALTH, reinterpret_cast<const void *>(self->table_.health));
  keep(COFFER_CAP_KEY_NAME, reinterpret_cast<const void *>(self->table_.key_name));
  keep(COFFER_CAP_ADMIN, reinterpret_cast<const void *>(self->table_.admin));
  keep(COFFER_CAP_HISTORY, reinterpret_cast<const void *>(self->table_.versions));
  keep(COFFER_CAP_SOFT_DELETE, reinterpret_cast<const void *>(self->table_.purge));
  self->table_.capabilities |= COFFER_CAP_GET;
  return self;
}

std::vector<std::string> PluginLibrary::capability_names() const {
  std::vector<std::string> out;
  const std::pair<uint64_t, const char *> names[] = {
      {COFFER_CAP_GET, "get"},           {COFFER_CAP_PUT, "put"},
      {COFFER_CAP_REMOVE, "remove"},     {COFFER_CAP_LIST, "list"},
      {COFFER_CAP_HEALTH, "health"},     {COFFER_CAP_VERSIONS, "versions"},
      {COFFER_CAP_KEY_NAME, "key_name"}, {COFFER_CAP_ADMIN, "admin"},
      {COFFER_CAP_HISTORY, "history"},   {COFFER_CAP_SOFT_DELETE, "soft_delete"}};
  for (const auto &[bit, text] : names)
    if ((table_.capabilities & bit) != 0) out.emplace_back(text);
  return out;
}

}  // namespace coffer::detail

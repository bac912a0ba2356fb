// Secret material out of core dumps, end to end: a C host and a C++ host read
// keys from the database provider (SQLite), env_file and the Key Vault
// emulator (workload identity), free them, and the test then searches every
// dumpable mapping of the live host (/proc/PID/smaps entries without the
// `dd` flag, read through /proc/PID/mem) for each value, the master key, the
// data keys, the access tokens and the federated token: with the Store open
// (all key material in use) and after it closed. A control run that leaves
// copies in ordinary heap memory shows that the search finds what is there.
// Where gdb's gcore works, a real core dump of a host is searched the same
// way.
#define BOOST_TEST_MODULE memory_dump_tests
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <coffer/store.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "crypto/aead.hpp"
#include "crypto/envelope.hpp"
#include "emulator_process.hpp"
#include "memory_maps.hpp"
#include "storage/storage.hpp"
#include "store/config.hpp"
#include "store/open_store.hpp"
#include "temp_directory.hpp"

extern char **environ;

namespace {

namespace fs = std::filesystem;
using coffer::test::DumpScan;
using coffer::test::Needle;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = std::chrono::seconds(60);

std::string random_text(std::size_t size) {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::random_device device;
  std::string out;
  for (std::size_t i = 0; i < size; ++i) out.push_back(alphabet[device() % (sizeof alphabet - 1)]);
  return out;
}

std::string random_bytes(std::size_t size) {
  std::random_device device;
  std::string out;
  for (std::size_t i = 0; i < size; ++i) out.push_back(static_cast<char>(device() & 0xff));
  return out;
}

void write_private(const fs::path &path, const std::string &content) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
  }
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

std::string env(const char *name) {
  const char *value = std::getenv(name);
  if (value == nullptr) throw std::runtime_error(std::string(name) + " is not set (run via ctest)");
  return value;
}

// A key, the provider that serves it and its value.
struct StoredKey {
  std::string key;
  std::string provider;  // "db", "local", "vault"
  std::string value;
};

// Three providers holding two keys each, the policy that routes to them, and
// every piece of secret material a host that reads them comes to hold.
class World {
 public:
  World() {
    master_key_ = random_bytes(32);
    write_private(dir_ / "master.key", master_key_);
    federated_token_ = "eyJhbGciOiJSUzI1NiJ9." + random_text(60) + "." + random_text(40);
    write_private(dir_ / "federated-token", federated_token_);
    coffer::test::EmulatorOptions options;
    options.token_file = dir_ / "federated-token";
    emulator_ = std::make_unique<coffer::test::Emulator>(options);

    keys_ = {{"BuildPackage.FileBasicAuthPassword", "db", random_text(40)},
             {"BuildPackage.AwsSecretAccessKey", "db", random_text(40)},
             {"RuntimeBaseImage.PrivateRegistryPassword", "local", random_text(40)},
             {"VCS.AzureAuthSecret", "local", random_text(40)},
             {"VCS.GithubAdminPAT", "vault", random_text(40)},
             {"VCS.GitlabAdminPAT", "vault", random_text(40)}};
    std::string env_file;
    for (const auto &key : keys_) {
      if (key.provider == "local") {
        std::string name = key.key;
        name.replace(name.find('.'), 1, "__");
        env_file += name + "=" + key.value + "\n";
      } else if (key.provider == "vault") {
        std::string name = key.key;
        name.replace(name.find('.'), 1, "-");
        emulator_->set_secret(name, key.value);
      }
    }
    write_private(dir_ / "local.env", env_file);
    write_private(dir_ / "coffer.json", policy());

    {
      coffer::Store store = coffer::Store::open(dir_ / "coffer.json");
      store.admin("db", "init");
      for (const auto &key : keys_)
        if (key.provider == "db") store.put(key.key, coffer::Secret::copy_of(key.value));
    }
    data_keys_ = unwrap_data_keys();
    if (data_keys_.empty()) throw std::runtime_error("no data key could be unwrapped");
  }
  ~World() { emulator_.reset(); }
  World(const World &) = delete;
  World &operator=(const World &) = delete;

  [[nodiscard]] fs::path policy_file() const { return dir_ / "coffer.json"; }
  [[nodiscard]] fs::path master_key_file() const { return dir_ / "master.key"; }
  [[nodiscard]] fs::path federated_token_file() const { return dir_ / "federated-token"; }
  [[nodiscard]] const std::vector<StoredKey> &keys() const { return keys_; }

  std::vector<std::string> key_names() const {
    std::vector<std::string> names;
    for (const auto &key : keys_) names.push_back(key.key);
    return names;
  }

  // The values, the master key and the federated token: what a control run
  // leaves in ordinary memory.
  [[nodiscard]] std::vector<Needle> copied_needles() const {
    std::vector<Needle> needles;
    for (const auto &key : keys_) needles.push_back({"the value of " + key.key, key.value});
    needles.push_back({"the master key", master_key_});
    needles.push_back({"the federated token", federated_token_});
    return needles;
  }

  // Everything: the above, the data keys and the access tokens the emulator
  // has issued (to this host among others).
  // `halves`: also the second half of each secret (see below).
  [[nodiscard]] std::vector<Needle> all_needles(bool halves = true) const {
    std::vector<Needle> needles = copied_needles();
    for (std::size_t i = 0; i < data_keys_.size(); ++i)
      needles.push_back({"data key " + std::to_string(i + 1), data_keys_[i]});
    for (const auto &token : emulator_->unexpired_tokens())
      needles.push_back({"an access token", token});
    // The allocator writes its free-list links over the first 16 bytes of a
    // freed chunk: a copy freed without wiping keeps the rest, so look for
    // the second half of every secret too.
    const std::size_t whole = halves ? needles.size() : 0;
    for (std::size_t i = 0; i < whole; ++i) {
      const std::string &bytes = needles[i].bytes;
      if (bytes.size() >= 32)
        needles.push_back(
            {"the second half of " + needles[i].name, bytes.substr(bytes.size() / 2)});
    }
    return needles;
  }

  [[nodiscard]] std::size_t access_tokens() const { return emulator_->unexpired_tokens().size(); }

 private:
  [[nodiscard]] std::string db_config() const {
    return R"({"url": "sqlite://)" + (dir_ / "credentials.db").string() +
           R"(", "master_key": {"file": "master.key"}})";
  }

  [[nodiscard]] std::string policy() const {
    return R"({"coffer": 1, "plugin_dirs": [")" + env("COFFER_TEST_PLUGIN_DIR") +
           R"("], "providers": {"db": {"plugin": "database", "config": )" + db_config() +
           R"(}, "local": {"plugin": "env_file", "config": {"path": "local.env"}},
               "vault": {"plugin": "azure_keyvault", "config": {"vault_url": ")" +
           emulator_->vault_url() + R"(", "authority_host": ")" + emulator_->authority_host() +
           R"(", "ca_file": ")" + emulator_->ca_file().string() +
           R"(", "verify_challenge_resource": false, "credential": {"type": "workload_identity",
               "tenant_id": ")" +
           emulator_->tenant() + R"(", "client_id": ")" + emulator_->client_id() +
           R"(", "token_file": "federated-token"}}}},
             "routes": {"BuildPackage": "db", "RuntimeBaseImage": "local", "VCS": "vault"},
             "keys": {"VCS.AzureAuthSecret": "local"}})";
  }

  // The data keys, unwrapped here with the known master key.
  [[nodiscard]] std::vector<std::string> unwrap_data_keys() const {
    using namespace coffer::database;
    Config config = parse_config(db_config(), dir_.path());
    auto storage = open_storage(config, {});
    auto store = storage->read_store();
    if (!store) throw std::runtime_error("the store is not initialised");
    Aes256Gcm aead;
    std::vector<std::string> keys;
    for (const auto &slot : storage->read_slots())
      for (const auto &wrap : storage->read_wrapped_keys(slot.slot_id)) {
        auto key = unwrap_data_key(aead, as_bytes(master_key_),
                                   {store->store_id, wrap.data_key_id, slot.slot_id}, wrap.nonce,
                                   wrap.wrapped);
        if (key) keys.emplace_back(key->view());
      }
    return keys;
  }

  coffer::test::TempDirectory dir_{"coffer-memory-test"};
  std::string master_key_;
  std::string federated_token_;
  std::unique_ptr<coffer::test::Emulator> emulator_;
  std::vector<StoredKey> keys_;
  std::vector<std::string> data_keys_;
};

World &world() {
  static World instance;
  return instance;
}

// A host process driven through its standard input and output; killed if
// still running when destroyed.
class Host {
 public:
  Host(const std::string &program, const std::vector<std::string> &options) {
    std::vector<std::string> arguments{program, world().policy_file().string()};
    arguments.insert(arguments.end(), options.begin(), options.end());
    for (const auto &key : world().key_names()) arguments.push_back(key);
    std::vector<char *> argv;
    for (auto &argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    int to_child[2], from_child[2];
    if (::pipe2(to_child, O_CLOEXEC) != 0 || ::pipe2(from_child, O_CLOEXEC) != 0)
      throw std::runtime_error("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, to_child[0], 0);
    posix_spawn_file_actions_adddup2(&actions, from_child[1], 1);
    int spawned = ::posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    ::close(to_child[0]);
    ::close(from_child[1]);
    input_ = to_child[1];
    output_ = from_child[0];
    if (spawned != 0) throw std::runtime_error("cannot start " + program);
  }
  ~Host() {
    if (input_ >= 0) ::close(input_);
    if (output_ >= 0) ::close(output_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Host(const Host &) = delete;
  Host &operator=(const Host &) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }

  // The next line of output; throws when none comes in time.
  std::string read_line() {
    const auto until = Clock::now() + kDeadline;
    std::string line;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now());
      if (left.count() <= 0) throw std::runtime_error("the host said nothing in time");
      pollfd ready{output_, POLLIN, 0};
      if (::poll(&ready, 1, static_cast<int>(left.count())) <= 0) continue;
      char c = 0;
      if (::read(output_, &c, 1) != 1) throw std::runtime_error("the host ended: " + line);
      if (c == '\n') return line;
      line.push_back(c);
    }
  }
  void send(const std::string &line) {
    const std::string text = line + "\n";
    if (::write(input_, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      throw std::runtime_error("cannot write to the host");
  }
  // Ends the host; returns its exit status.
  int finish() {
    send("exit");
    int status = 0;
    const auto until = Clock::now() + kDeadline;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (Clock::now() > until) throw std::runtime_error("the host did not exit in time");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
  int input_ = -1;
  int output_ = -1;
};

std::string describe(const std::vector<coffer::test::Hit> &hits) {
  std::string text;
  for (const auto &hit : hits)
    text += "\n  " + hit.needle + " at 0x" +
            [&] {
              char buffer[32];
              std::snprintf(buffer, sizeof buffer, "%llx",
                            static_cast<unsigned long long>(hit.address));
              return std::string(buffer);
            }() +
            " in " + hit.mapping;
  return text;
}

// The needles found, by name.
std::set<std::string> found(const std::vector<coffer::test::Hit> &hits) {
  std::set<std::string> names;
  for (const auto &hit : hits) names.insert(hit.needle);
  return names;
}

void check_no_secret_in(const std::string &program, const char *host_name) {
  Host host(program, {});
  BOOST_TEST_REQUIRE(host.read_line() == "ready 6");
  BOOST_TEST_REQUIRE(world().access_tokens() >= 1u);
  auto open = DumpScan::scan_process(host.pid(), world().all_needles());
  BOOST_TEST(open.mappings > 10u);
  BOOST_TEST(open.bytes > 1000000u);
  BOOST_TEST(open.hits.empty(), host_name
                                    << " with its Store open: secret material in dumpable memory:"
                                    << describe(open.hits));
  host.send("close");
  BOOST_TEST_REQUIRE(host.read_line() == "closed");
  auto closed = DumpScan::scan_process(host.pid(), world().all_needles());
  BOOST_TEST(closed.hits.empty(), host_name << " after closing its Store: secret material in "
                                               "dumpable memory:"
                                            << describe(closed.hits));
  BOOST_TEST(host.finish() == 0);
}

std::vector<std::string> control_options() {
  return {"--copy-into-heap", "--copy-file", world().master_key_file().string(), "--copy-file",
          world().federated_token_file().string()};
}

// Runs gdb's gcore on `pid`; returns the core file, or nothing (with the
// reason) when the machine does not allow it.
std::optional<fs::path> core_dump_of(pid_t pid, const fs::path &directory, std::string &why) {
  const char *path = std::getenv("PATH");
  std::string gdb;
  for (std::string rest = path != nullptr ? path : ""; !rest.empty();) {
    std::string entry = rest.substr(0, rest.find(':'));
    rest = rest.find(':') == std::string::npos ? "" : rest.substr(rest.find(':') + 1);
    if (!entry.empty() && ::access((fs::path(entry) / "gdb").c_str(), X_OK) == 0) {
      gdb = (fs::path(entry) / "gdb").string();
      break;
    }
  }
  if (gdb.empty()) {
    why = "gdb is not installed; scripts/install-deps installs it";
    return std::nullopt;
  }
  const fs::path core = directory / ("core." + std::to_string(pid));
  // What the gcore script runs, with one difference: shared libraries are
  // looked for in a sysroot that does not exist, so none is read. The core
  // loads plugins through /proc/self/fd/N, names that gdb would open in its
  // own process (where one is a pipe that never ends). The dump itself needs
  // only the memory map.
  std::vector<std::string> arguments{gdb,       "--nx",
                                     "--batch", "--readnever",
                                     "-iex",    "set debuginfod enabled off",
                                     "-iex",    "set sysroot /nonexistent-coffer-sysroot",
                                     "-ex",     "attach " + std::to_string(pid),
                                     "-ex",     "gcore " + core.string(),
                                     "-ex",     "detach",
                                     "-ex",     "quit"};
  std::vector<char *> argv;
  for (auto &argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string log = (directory / "gdb.log").string();
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  // gdb waits for its tracee through SIGCHLD: give it default signal
  // handling and an empty mask, whatever the test framework set here.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
  pid_t child = -1;
  posix_spawnattr_setpgroup(&attributes, 0);
  int spawned = ::posix_spawn(&child, gdb.c_str(), &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) {
    why = "cannot start gdb";
    return std::nullopt;
  }
  int status = 0;
  const auto until = Clock::now() + std::chrono::seconds(120);
  while (::waitpid(child, &status, WNOHANG) == 0) {
    if (Clock::now() > until) {
      ::kill(-child, SIGKILL);
      ::waitpid(child, &status, 0);
      why = "gdb did not finish a core dump within 120 s";
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !fs::exists(core)) {
    std::ifstream in(log);
    why = "gdb could not dump the host (ptrace not allowed here?): " +
          std::string(std::istreambuf_iterator<char>(in), {});
    return std::nullopt;
  }
  return core;
}

// `coffer serve` over the world's policy, on a Unix socket in `directory`;
// stopped with SIGTERM when destroyed.
class Agent {
 public:
  explicit Agent(const fs::path &directory) : socket_(directory / "agent.sock") {
    std::vector<std::string> arguments{
        env("COFFER_CLI"), "--policy", world().policy_file().string(),
        "serve",           "--socket", socket_.string(),
        "--threads",       "2"};
    std::vector<char *> argv;
    for (auto &argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    const std::string log = (directory / "agent.log").string();
    posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int spawned = ::posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (spawned != 0) throw std::runtime_error("cannot start the agent");
    const auto until = Clock::now() + kDeadline;
    while (!fs::exists(socket_)) {
      if (Clock::now() > until) throw std::runtime_error("the agent did not open its socket");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  ~Agent() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  Agent(const Agent &) = delete;
  Agent &operator=(const Agent &) = delete;
  [[nodiscard]] pid_t pid() const { return pid_; }

  // The whole answer to GET `target` on a connection of its own.
  [[nodiscard]] std::string get(const std::string &target) const {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_.c_str());
    if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0) {
      ::close(fd);
      throw std::runtime_error("cannot connect to the agent");
    }
    const std::string request =
        "GET " + target + " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size()))
      throw std::runtime_error("cannot write to the agent");
    std::string answer;
    char buffer[4096];
    for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) > 0;)
      answer.append(buffer, static_cast<std::size_t>(n));
    ::close(fd);
    return answer;
  }

 private:
  fs::path socket_;
  pid_t pid_ = -1;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(live_memory)

BOOST_AUTO_TEST_CASE(a_c_host_leaves_no_secret_in_dumpable_memory) {
  check_no_secret_in(env("COFFER_MEMORY_C_HOST"), "the C host");
}

BOOST_AUTO_TEST_CASE(a_cxx_host_leaves_no_secret_in_dumpable_memory) {
  check_no_secret_in(env("COFFER_MEMORY_CXX_HOST"), "the C++ host");
}

// The control: the same search finds the copies a host leaves in ordinary
// heap memory, so an empty result above means what it says.
BOOST_AUTO_TEST_CASE(the_search_finds_copies_in_ordinary_memory) {
  for (const char *program : {"COFFER_MEMORY_C_HOST", "COFFER_MEMORY_CXX_HOST"}) {
    Host host(env(program), control_options());
    BOOST_TEST_REQUIRE(host.read_line() == "ready 6");
    auto scan = DumpScan::scan_process(host.pid(), world().copied_needles());
    auto names = found(scan.hits);
    for (const auto &needle : world().copied_needles())
      BOOST_TEST(names.count(needle.name) == 1u, program << ": " << needle.name << " not found");
    BOOST_TEST(host.finish() == 0);
  }
}

// The agent hands values to other processes: after it has served each key
// (one by one, and all at once), its dumpable memory holds none of them.
BOOST_AUTO_TEST_CASE(the_agent_leaves_no_secret_in_dumpable_memory) {
  const coffer::test::TempDirectory scratch("coffer-memory-agent");
  const fs::path &directory = scratch.path();
  Agent agent(directory);
  for (int round = 0; round < 3; ++round)
    for (const auto &key : world().keys()) {
      auto answer = agent.get("/v1.0/secrets/coffer/" + key.key);
      BOOST_TEST_REQUIRE(answer.find(key.value) != std::string::npos,
                         key.key << ": " << answer.substr(0, answer.find("\r\n")));
    }
  auto bulk = agent.get("/v1.0/secrets/coffer/bulk");
  for (const auto &key : world().keys())
    BOOST_TEST_REQUIRE(bulk.find(key.value) != std::string::npos, key.key << " not in bulk");
  auto scan = DumpScan::scan_process(agent.pid(), world().all_needles());
  BOOST_TEST(scan.mappings > 10u);
  BOOST_TEST(scan.hits.empty(),
             "the agent: secret material in dumpable memory:" << describe(scan.hits));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(core_dump)

BOOST_AUTO_TEST_CASE(a_core_dump_of_a_host_holds_no_secret) {
  const coffer::test::TempDirectory scratch("coffer-memory-core");
  const fs::path &directory = scratch.path();

  // The control first: a dump of a host that left copies in its heap holds
  // them; where no dump can be made, say so and stop.
  {
    Host host(env("COFFER_MEMORY_C_HOST"), control_options());
    BOOST_TEST_REQUIRE(host.read_line() == "ready 6");
    std::string why;
    auto core = core_dump_of(host.pid(), directory, why);
    if (!core) {
      BOOST_TEST_MESSAGE("skipped: no core dump on this machine: " << why);
      return;
    }
    auto scan = DumpScan::scan_file(core->string(), world().copied_needles());
    auto names = found(scan.hits);
    for (const auto &needle : world().copied_needles())
      BOOST_TEST(names.count(needle.name) == 1u, "control dump: " << needle.name << " not found");
    fs::remove(*core);
    BOOST_TEST(host.finish() == 0);
  }
  for (const char *program : {"COFFER_MEMORY_C_HOST", "COFFER_MEMORY_CXX_HOST"}) {
    Host host(env(program), {});
    BOOST_TEST_REQUIRE(host.read_line() == "ready 6");
    std::string why;
    auto core = core_dump_of(host.pid(), directory, why);
    BOOST_TEST_REQUIRE(core.has_value(), why);
    auto scan = DumpScan::scan_file(core->string(), world().all_needles());
    BOOST_TEST(scan.bytes > 1000000u);
    BOOST_TEST(scan.hits.empty(),
               program << ": secret material in the core dump:" << describe(scan.hits));
    fs::remove(*core);
    BOOST_TEST(host.finish() == 0);
  }
}

BOOST_AUTO_TEST_SUITE_END()

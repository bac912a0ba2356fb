// Agent benchmark: a cached get through `coffer serve` over its Unix socket
// (HTTP/1.1, keep-alive, the Dapr secrets API), side by side in one run with
//  - the same get in-process (Store::get of a cached key: the floor), and
//  - `coffer get` run as a process per secret (what a shell or a build tool
//    without the agent does).
// Targets: at least 50,000 gets/s with 64 concurrent clients on 2 cores, p99
// under 1 ms there, and at least 100x the throughput of `coffer get`.
//
// The clients are one thread multiplexing every connection with epoll (one
// request outstanding per connection, like a client that waits for its
// answer), so that the client costs as little CPU as a client can.
//
// Usage: coffer-bench-agent [--seconds S] [--rounds N] [--threads N]
//   --threads is passed to `coffer serve --threads` (default: its own).
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <coffer/store.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::string_view kKey = "Email.SMTPPassword";
constexpr std::string_view kValue = "bench-value-0123456789abcdef0123456789";

[[noreturn]] void fail(const std::string &what) {
  throw std::runtime_error(what + (errno != 0 ? std::string(": ") + std::strerror(errno) : ""));
}

struct Options {
  double seconds = 3;
  int rounds = 3;
  int threads = 0;
};

// A temporary directory with an env file and a policy routing every key to it.
struct Setup {
  std::filesystem::path directory;
  std::filesystem::path policy;
  std::filesystem::path socket;

  Setup() {
    std::string pattern = (std::filesystem::temp_directory_path() / "coffer-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) fail("mkdtemp");
    directory = pattern;
    write("secrets.env", "Email__SMTPPassword=" + std::string(kValue) + "\n");
    policy = write("policy.json", R"({"coffer": 1, "plugin_dirs": [")" COFFER_BENCH_PLUGIN_DIR
                                  R"("], "providers": {"p": {"plugin": "env_file", "config": )"
                                  R"({"path": ")" +
                                      (directory / "secrets.env").string() +
                                      R"("}}}, "routes": {"*": "p"}})");
    socket = directory / "agent.sock";
  }
  ~Setup() {
    std::error_code ignored;
    std::filesystem::remove_all(directory, ignored);
  }
  Setup(const Setup &) = delete;
  Setup &operator=(const Setup &) = delete;

  std::filesystem::path write(const std::string &name, const std::string &text) const {
    auto path = directory / name;
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || ::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
      fail("cannot write " + path.string());
    ::close(fd);
    return path;
  }
};

pid_t spawn(const std::vector<std::string> &arguments, const char *output) {
  std::vector<char *> argv;
  std::vector<std::string> copy = arguments;
  for (auto &argument : copy) argv.push_back(argument.data());
  argv.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    int out = ::open(output, O_WRONLY | O_CREAT | O_APPEND, 0600);
    int in = ::open("/dev/null", O_RDONLY);
    if (out < 0 || in < 0) ::_exit(127);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(out, 2);
    ::unsetenv("COFFER_AGENT_SOCKET");
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) fail("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int connect_unix(const std::filesystem::path &path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// CPU time (user + system) a process has used so far, in seconds.
double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::vector<std::string> fields;
  std::size_t at = close + 2;
  while (at < text.size()) {
    auto space = text.find(' ', at);
    fields.push_back(text.substr(at, space - at));
    if (space == std::string::npos) break;
    at = space + 1;
  }
  // Fields from the state on: utime and stime are the 12th and 13th.
  if (fields.size() < 13) return 0;
  return static_cast<double>(std::stoull(fields[11]) + std::stoull(fields[12])) /
         static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// `coffer serve` on the setup's socket, stopped with SIGTERM.
class Agent {
 public:
  Agent(const Setup &setup, int threads) {
    std::vector<std::string> arguments{COFFER_BENCH_CLI, "--policy", setup.policy.string(),
                                       "serve",          "--socket", setup.socket.string()};
    if (threads > 0) {
      arguments.emplace_back("--threads");
      arguments.push_back(std::to_string(threads));
    }
    log_ = (setup.directory / "agent.log").string();
    pid_ = spawn(arguments, log_.c_str());
    auto until = Clock::now() + 20s;
    for (;;) {
      int fd = connect_unix(setup.socket);
      if (fd >= 0) {
        ::close(fd);
        break;
      }
      if (Clock::now() > until) fail("the agent did not open its socket; see " + log_);
      std::this_thread::sleep_for(10ms);
    }
  }
  ~Agent() {
    ::kill(pid_, SIGTERM);
    int status = wait_for(pid_);
    if (status != 0) std::fprintf(stderr, "agent exited with %d (log: %s)\n", status, log_.c_str());
  }
  Agent(const Agent &) = delete;
  Agent &operator=(const Agent &) = delete;
  [[nodiscard]] pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  std::string log_;
};

struct Figures {
  double gets_per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
  double agent_cores = 0;   // CPU the agent used, in cores
  double client_cores = 0;  // CPU this client used, in cores
  long errors = 0;
};

double percentile(std::vector<double> &samples, double p) {
  if (samples.empty()) return 0;
  auto at = static_cast<std::size_t>(p * static_cast<double>(samples.size() - 1));
  std::nth_element(samples.begin(), samples.begin() + static_cast<std::ptrdiff_t>(at),
                   samples.end());
  return samples[at];
}

// One keep-alive connection with one request outstanding.
struct Connection {
  int fd = -1;
  std::string input;
  std::size_t written = 0;
  Clock::time_point sent;
};

const std::string &request_text() {
  static const std::string text =
      "GET /v1.0/secrets/coffer/" + std::string(kKey) + " HTTP/1.1\r\nHost: localhost\r\n\r\n";
  return text;
}

// The length of the first complete response in `input` and whether it is a
// 200 carrying the value; nullopt while incomplete.
std::optional<std::pair<std::size_t, bool>> complete_response(const std::string &input) {
  auto end = input.find("\r\n\r\n");
  if (end == std::string::npos) return std::nullopt;
  std::string_view head(input.data(), end);
  std::size_t length = 0;
  for (std::size_t at = 0; at < head.size();) {
    auto line_end = head.find("\r\n", at);
    auto line = head.substr(at, line_end == std::string_view::npos ? head.npos : line_end - at);
    constexpr std::string_view name = "content-length:";
    if (line.size() > name.size()) {
      std::string lower(line.substr(0, name.size()));
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower == name)
        length = std::strtoul(std::string(line.substr(name.size())).c_str(), nullptr, 10);
    }
    if (line_end == std::string_view::npos) break;
    at = line_end + 2;
  }
  std::size_t total = end + 4 + length;
  if (input.size() < total) return std::nullopt;
  bool ok = head.starts_with("HTTP/1.1 200") &&
            std::string_view(input).substr(end + 4, length).find(kValue) != std::string_view::npos;
  return std::pair{total, ok};
}

// `clients` keep-alive connections, each sending its next request when the
// previous answer is complete, for `seconds`.
Figures drive(const Setup &setup, const Agent &agent, int clients, double seconds) {
  int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll < 0) fail("epoll_create1");
  std::vector<Connection> connections(static_cast<std::size_t>(clients));
  for (std::size_t i = 0; i < connections.size(); ++i) {
    auto &c = connections[i];
    c.fd = connect_unix(setup.socket);
    if (c.fd < 0) fail("connect to the agent");
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = i;
    if (::epoll_ctl(epoll, EPOLL_CTL_ADD, c.fd, &event) != 0) fail("epoll_ctl");
  }
  const std::string &request = request_text();
  auto send_request = [&](Connection &c) {
    c.sent = Clock::now();
    auto n = ::send(c.fd, request.data(), request.size(), MSG_NOSIGNAL);
    if (n != static_cast<ssize_t>(request.size())) fail("send");
  };

  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(seconds * 200000));
  Figures figures;
  long done = 0;
  double agent_cpu = cpu_seconds(agent.pid());
  double own_cpu = cpu_seconds(::getpid());
  auto start = Clock::now();
  auto until =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (auto &c : connections) send_request(c);
  std::vector<epoll_event> events(static_cast<std::size_t>(clients));
  char buffer[4096];
  bool running = true;
  while (running) {
    int n = ::epoll_wait(epoll, events.data(), clients, 1000);
    if (n < 0 && errno != EINTR) fail("epoll_wait");
    auto now = Clock::now();
    if (now >= until) running = false;
    for (int e = 0; e < n; ++e) {
      auto &c = connections[events[static_cast<std::size_t>(e)].data.u64];
      auto got = ::recv(c.fd, buffer, sizeof(buffer), 0);
      if (got <= 0) fail("the agent closed a connection");
      c.input.append(buffer, static_cast<std::size_t>(got));
      while (auto response = complete_response(c.input)) {
        latencies.push_back(std::chrono::duration<double, std::micro>(now - c.sent).count());
        ++done;
        if (!response->second) ++figures.errors;
        c.input.erase(0, response->first);
        if (running) send_request(c);
      }
    }
  }
  // Let the answers still outstanding arrive, so the next round starts clean.
  auto elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  figures.agent_cores = (cpu_seconds(agent.pid()) - agent_cpu) / elapsed;
  figures.client_cores = (cpu_seconds(::getpid()) - own_cpu) / elapsed;
  for (auto &c : connections) ::close(c.fd);
  ::close(epoll);
  figures.gets_per_second = static_cast<double>(done) / elapsed;
  figures.p50_us = percentile(latencies, 0.50);
  figures.p99_us = percentile(latencies, 0.99);
  return figures;
}

// Store::get of a cached key in this process: ns per get.
double in_process_ns(const Setup &setup) {
  auto store = coffer::Store::open(setup.policy);
  (void)store.get(kKey);
  constexpr long n = 2'000'000;
  double best = 1e18;
  for (int round = 0; round < 5; ++round) {
    auto start = Clock::now();
    for (long i = 0; i < n; ++i) {
      auto secret = store.get(kKey);
      if (secret.size() != kValue.size()) fail("in-process get returned the wrong value");
    }
    best = std::min(best, std::chrono::duration<double, std::nano>(Clock::now() - start).count() /
                              static_cast<double>(n));
  }
  return best;
}

// `coffer get` as a process per secret: median wall time in ms.
double process_per_secret_ms(const Setup &setup, int count) {
  std::vector<double> times;
  auto output = (setup.directory / "get.out").string();
  for (int i = 0; i < count; ++i) {
    auto start = Clock::now();
    pid_t pid =
        spawn({COFFER_BENCH_CLI, "--policy", setup.policy.string(), "get", "-n", std::string(kKey)},
              output.c_str());
    if (wait_for(pid) != 0) fail("coffer get failed; see " + output);
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
  return percentile(times, 0.5);
}

Options parse(int argc, char **argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto next = [&]() -> const char * {
      if (i + 1 >= argc) throw std::invalid_argument(std::string(a) + " needs a value");
      return argv[++i];
    };
    if (a == "--seconds") {
      options.seconds = std::atof(next());
    } else if (a == "--rounds") {
      options.rounds = std::atoi(next());
    } else if (a == "--threads") {
      options.threads = std::atoi(next());
    } else {
      throw std::invalid_argument(
          "usage: coffer-bench-agent [--seconds S] [--rounds N] "
          "[--threads N]");
    }
  }
  if (options.seconds <= 0 || options.rounds < 1 || options.threads < 0)
    throw std::invalid_argument("--seconds, --rounds and --threads must be positive");
  return options;
}

void print_row(const char *name, const Figures &f, double floor_ns) {
  std::printf(
      "  %-28s %10.0f gets/s  p50 %7.1f us  p99 %7.1f us  %5.2fx floor p50  "
      "agent %.2f cores, client %.2f  errors %ld\n",
      name, f.gets_per_second, f.p50_us, f.p99_us, f.p50_us * 1000.0 / floor_ns, f.agent_cores,
      f.client_cores, f.errors);
}

}  // namespace

int main(int argc, char **argv) try {
  Options options = parse(argc, argv);
  std::printf(
      "coffer agent benchmark (%u hardware threads); cached get of %.*s over the "
      "Unix socket, keep-alive\n",
      std::thread::hardware_concurrency(), static_cast<int>(kKey.size()), kKey.data());
  Setup setup;
  double floor_ns = in_process_ns(setup);
  std::printf("  %-28s %10.0f gets/s  %.1f ns/get (the floor)\n", "in-process Store::get",
              1e9 / floor_ns, floor_ns);
  double per_process_ms = process_per_secret_ms(setup, 30);
  std::printf("  %-28s %10.1f gets/s  %.2f ms/get (median of 30)\n", "`coffer get` per process",
              1000.0 / per_process_ms, per_process_ms);

  std::vector<Figures> one, many;
  {
    Agent agent(setup, options.threads);
    (void)drive(setup, agent, 1, 0.3);  // warm: the value is cached, threads awake
    for (int round = 0; round < options.rounds; ++round) {
      one.push_back(drive(setup, agent, 1, options.seconds));
      print_row("agent, 1 client", one.back(), floor_ns);
      many.push_back(drive(setup, agent, 64, options.seconds));
      print_row("agent, 64 clients", many.back(), floor_ns);
    }
  }
  auto median = [](std::vector<Figures> figures) {
    std::sort(figures.begin(), figures.end(), [](const Figures &a, const Figures &b) {
      return a.gets_per_second < b.gets_per_second;
    });
    return figures[figures.size() / 2];
  };
  Figures m1 = median(one), m64 = median(many);
  long errors = 0;
  for (const auto &f : one) errors += f.errors;
  for (const auto &f : many) errors += f.errors;
  double per_process = 1000.0 / per_process_ms;
  std::printf("\nmedian round of %d (%.1f s each):\n", options.rounds, options.seconds);
  print_row("agent, 1 client", m1, floor_ns);
  print_row("agent, 64 clients", m64, floor_ns);
  std::printf("  64 clients: %.0f gets/s against the target 50,000: %.2fx — %s\n",
              m64.gets_per_second, m64.gets_per_second / 50000.0,
              m64.gets_per_second >= 50000 ? "met" : "missed");
  std::printf("  64 clients: p99 %.1f us against the target 1,000 us: %.2fx — %s\n", m64.p99_us,
              m64.p99_us / 1000.0, m64.p99_us < 1000 ? "met" : "missed");
  std::printf("  1 client against `coffer get` per process: %.0fx (target 100x) — %s\n",
              m1.gets_per_second / per_process,
              m1.gets_per_second / per_process >= 100 ? "met" : "missed");
  std::printf("  64 clients against `coffer get` per process: %.0fx\n",
              m64.gets_per_second / per_process);
  if (errors != 0) {
    std::printf("  %ld responses were not a 200 carrying the value\n", errors);
    return 1;
  }
  return 0;
} catch (const std::exception &e) {
  std::fprintf(stderr, "coffer-bench-agent: %s\n", e.what());
  return 1;
}

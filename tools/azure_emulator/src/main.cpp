// coffer-azure-emulator: Entra ID, IMDS and the Key Vault secrets API on
// loopback, for tests, benchmarks and the demo. See tools/azure_emulator/README.md
// for the interface.
#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "emulator.hpp"
#include "http_server.hpp"
#include "responses.hpp"

namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using coffer::emulator::Settings;

constexpr const char *kControlName = "coffer-emulator-control";

constexpr const char *kUsage =
    "usage: coffer-azure-emulator --state-dir DIR [--listen ADDRESS] [--port N] [--imds-port N]\n"
    "         [--tenant ID] [--client-id ID] [--token-file PATH] [--client-secret-file PATH]\n"
    "         [--token-lifetime SECONDS] [--page-size N] [--san NAME]...\n"
    "         [--challenge-resource URL] [--seed FILE] [--rng-seed N] [--log-requests]\n";

struct CommandLine {
  fs::path state_dir;
  coffer::emulator::ServerOptions server;
  Settings settings;
  fs::path seed_file;
  std::optional<std::uint64_t> rng_seed;
  bool log_requests = false;
};

[[noreturn]] void usage_error(const std::string &message) {
  std::cerr << "coffer-azure-emulator: " << message << "\n" << kUsage;
  std::exit(2);
}

long number(const std::string &option, const std::string &text, long min, long max) {
  try {
    std::size_t used = 0;
    const long n = std::stol(text, &used);
    if (used == text.size() && n >= min && n <= max) return n;
  } catch (const std::exception &) {
  }
  usage_error(option + " expects a number from " + std::to_string(min) + " to " +
              std::to_string(max) + ", got \"" + text + "\"");
}

CommandLine parse(int argc, char **argv) {
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    const std::string option = argv[i];
    if (option == "--help" || option == "-h") {
      std::cout << kUsage;
      std::exit(0);
    }
    if (option == "--log-requests") {
      cl.log_requests = true;
      continue;
    }
    if (i + 1 >= argc) usage_error(option + " needs a value");
    const std::string value = argv[++i];
    if (option == "--state-dir") {
      cl.state_dir = value;
    } else if (option == "--listen") {
      cl.server.listen_address = value;
    } else if (option == "--port") {
      cl.server.https_port = static_cast<unsigned short>(number(option, value, 0, 65535));
    } else if (option == "--imds-port") {
      cl.server.imds_port = static_cast<unsigned short>(number(option, value, 0, 65535));
    } else if (option == "--tenant") {
      cl.settings.tenant = value;
    } else if (option == "--client-id") {
      cl.settings.client_id = value;
    } else if (option == "--token-file") {
      cl.settings.token_file = fs::absolute(value);
    } else if (option == "--client-secret-file") {
      cl.settings.client_secret_file = fs::absolute(value);
    } else if (option == "--token-lifetime") {
      cl.settings.token_lifetime_s = static_cast<int>(number(option, value, 0, 86400L * 30));
    } else if (option == "--page-size") {
      cl.settings.page_size = static_cast<int>(number(option, value, 1, 1000));
    } else if (option == "--san") {
      cl.settings.extra_sans.push_back(value);
    } else if (option == "--challenge-resource") {
      cl.settings.challenge_resource = value;
    } else if (option == "--seed") {
      cl.seed_file = value;
    } else if (option == "--rng-seed") {
      try {
        std::size_t used = 0;
        cl.rng_seed = std::stoull(value, &used);
        if (used != value.size()) throw std::invalid_argument(value);
      } catch (const std::exception &) {
        usage_error("--rng-seed expects a non-negative integer, got \"" + value + "\"");
      }
    } else {
      usage_error("unknown option " + option);
    }
  }
  if (cl.state_dir.empty()) usage_error("--state-dir is required");
  return cl;
}

// Writes a file atomically: a temporary file in the same directory, fsync,
// rename over the target, fsync the directory.
void write_atomically(const fs::path &path, const std::string &content, mode_t mode) {
  const fs::path temporary = path.parent_path() / ("." + path.filename().string() + ".tmp");
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) throw std::runtime_error("cannot create " + temporary.string());
  const bool written =
      ::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()) &&
      ::fsync(fd) == 0;
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    throw std::runtime_error("cannot write " + path.string());
  }
  const int dir = ::open(path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    ::fsync(dir);
    ::close(dir);
  }
}

void seed_secrets(coffer::emulator::Emulator &emulator, const fs::path &file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot read the seed file " + file.string());
  std::ostringstream text;
  text << in.rdbuf();
  boost::system::error_code ec;
  const auto value = json::parse(text.str(), ec);
  if (ec || !value.is_object()) {
    throw std::runtime_error("the seed file " + file.string() +
                             " must hold a JSON object {\"NAME\": \"value\", ...}");
  }
  for (const auto &entry : value.as_object()) {
    const std::string name(entry.key());
    if (!coffer::emulator::valid_secret_name(name) || !entry.value().is_string()) {
      throw std::runtime_error("the seed file " + file.string() + ": entry \"" + name +
                               "\" needs a valid secret name and a string value");
    }
    coffer::emulator::SecretWrite write;
    write.value = std::string(entry.value().as_string());
    emulator.vault().set(name, write, coffer::emulator::unix_now());
  }
}

// A thousand concurrent clients need more descriptors than the usual 1024.
void raise_file_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char **argv) {
  CommandLine cl = parse(argc, argv);
  std::signal(SIGPIPE, SIG_IGN);
  raise_file_limit();
  try {
    fs::create_directories(cl.state_dir);
    cl.state_dir = fs::canonical(cl.state_dir);
    const std::uint64_t seed = cl.rng_seed ? *cl.rng_seed : std::random_device{}();

    coffer::emulator::CertificateAuthority trusted("coffer emulator test CA");
    coffer::emulator::CertificateAuthority untrusted("coffer emulator untrusted CA");
    std::vector<std::string> sans{"localhost", "127.0.0.1"};
    if (cl.server.listen_address != "127.0.0.1" && cl.server.listen_address != "0.0.0.0") {
      sans.push_back(cl.server.listen_address);
    }
    sans.insert(sans.end(), cl.settings.extra_sans.begin(), cl.settings.extra_sans.end());
    std::vector<std::string> default_sans = sans;
    sans.push_back(kControlName);

    coffer::emulator::Emulator emulator(cl.settings, seed);
    if (!cl.seed_file.empty()) seed_secrets(emulator, cl.seed_file);

    const bool log = cl.log_requests;
    auto logged = [log](const char *port, auto handle) {
      return [log, port, handle](const coffer::emulator::Request &request) {
        auto response = handle(request);
        if (log) {
          const auto path = request.target.substr(0, request.target.find('?'));
          std::fprintf(stderr, "%s %s %s -> %d\n", port, request.method.c_str(), path.c_str(),
                       response.status);
        }
        return response;
      };
    };
    cl.server.control_name = kControlName;
    coffer::emulator::HttpServer server(
        cl.server, trusted.issue_server_identity(sans),
        logged("https", [&](const auto &r) { return emulator.handle_https(r); }),
        logged("imds", [&](const auto &r) { return emulator.handle_imds(r); }));
    emulator.attach(server.https_port(),
                    coffer::emulator::CertificateControl{
                        &trusted, untrusted.issue_server_identity(default_sans), default_sans,
                        [&server](const auto &identity) { server.present(identity); }});

    const fs::path ca_file = cl.state_dir / "ca.pem";
    write_atomically(ca_file, trusted.certificate_pem(), 0644);
    const std::string https = "https://localhost:" + std::to_string(server.https_port());
    const std::string endpoint = json::serialize(json::object{
        {"https_port", server.https_port()},
        {"imds_port", server.imds_port()},
        {"ca_file", ca_file.string()},
        {"pid", ::getpid()},
        {"rng_seed", seed},
        {"vault_url", https},
        {"authority_host", https + "/"},
        {"imds_endpoint", "http://127.0.0.1:" + std::to_string(server.imds_port()) +
                              "/metadata/identity/oauth2/token"},
        {"tenant", cl.settings.tenant},
        {"client_id", cl.settings.client_id},
        {"control_host", kControlName},
    });
    write_atomically(cl.state_dir / "endpoint.json", endpoint + "\n", 0644);
    std::cout << endpoint << std::endl;
    server.run();
  } catch (const std::exception &e) {
    std::cerr << "coffer-azure-emulator: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

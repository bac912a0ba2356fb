#include "agent.hpp"

#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <atomic>
#include <csignal>
#include <thread>

#include "agent_metrics.hpp"
#include "connection.hpp"
#include "cpu_budget.hpp"
#include "listeners.hpp"
#include "router.hpp"

namespace coffer::agent {
namespace {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;
using namespace std::chrono_literals;

// What a client beyond --max-connections receives before the socket closes.
constexpr std::string_view kBusy =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: "
    "close\r\nContent-Length: 95\r\n\r\n{\"errorCode\":\"ERR_TOO_MANY_CONNECTIONS\",\"message\":"
    "\"the agent serves no more connections now\"}";

unsigned io_threads(unsigned asked) {
  return asked > 0 ? asked : default_io_threads();
}

}  // namespace

struct Agent::Impl {
  Impl(Store &store_in, AgentOptions options_in, AgentLog &log_in)
      : store(store_in),
        options(std::move(options_in)),
        log(log_in),
        router(store, metrics, pool, pending_gets, draining),
        signals(io, SIGTERM, SIGINT, SIGHUP) {}

  Store &store;
  AgentOptions options;
  AgentLog &log;
  // One event loop per I/O thread, each connection on one of them for its
  // whole life: no strand and no lock between a connection's steps. `io`
  // (the first loop) also runs the acceptors, the signals and the drain.
  asio::io_context io{1};
  std::vector<std::unique_ptr<asio::io_context>> more_loops;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::size_t next_loop = 0;
  asio::thread_pool pool{4};  // blocking Store calls: providers asked directly, bulk, reload
  AgentMetrics metrics;
  PendingGets pending_gets;
  TokenTable tokens;
  std::atomic<bool> draining{false};
  Router router;
  ConnectionRegistry registry;
  asio::signal_set signals;
  std::optional<local::acceptor> unix_acceptor;
  std::vector<asio::ip::tcp::acceptor> tcp_acceptors;
  std::vector<std::string> endpoints;
  bool socket_created = false;

  ConnectionServices services() {
    return ConnectionServices{router, metrics, log, options.limits, tokens, registry};
  }

  // Whether a new connection may be served; answers 503 and closes it otherwise.
  template <class Socket>
  bool admit(Socket &socket) {
    if (static_cast<std::size_t>(metrics.open_connections()) >= options.limits.max_connections) {
      metrics.count_refusal(Refusal::connection);
      boost::system::error_code ignored;
      socket.non_blocking(true, ignored);
      asio::write(socket, asio::buffer(kBusy), ignored);
      socket.close(ignored);
      return false;
    }
    metrics.connection_opened();
    return true;
  }

  // The loop the next connection goes to: each in turn.
  asio::io_context &pick_loop() {
    std::size_t index = next_loop++ % (more_loops.size() + 1);
    return index == 0 ? io : *more_loops[index - 1];
  }

  void stop_loops() {
    keep_running.clear();
    io.stop();
    for (auto &loop : more_loops) loop->stop();
  }

  template <class Acceptor>
  asio::awaitable<void> accept_loop(Acceptor &acceptor) {
    for (;;) {
      asio::io_context &loop = pick_loop();
      auto [ec, socket] = co_await acceptor.async_accept(loop, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (!acceptor.is_open() || draining.load()) co_return;
        if (ec == asio::error::no_descriptors || ec == asio::error::no_buffer_space) {
          log.write(LogLevel::error, "cannot accept connections: " + ec.message());
          asio::steady_timer pause(io, 100ms);  // until a descriptor is free again
          co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        continue;
      }
      if (!admit(socket)) continue;
      asio::co_spawn(loop, serve_connection(std::move(socket), services()), asio::detached);
    }
  }

  void reload() {
    asio::post(pool, [this] {
      try {
        store.reload();
      } catch (const Error &) {  // reported by the Store's observer and log
      }
    });
  }

  void begin_shutdown() {
    if (draining.exchange(true)) {
      log.write(LogLevel::warning,
                "second signal: stopping without waiting for requests in flight");
      stop_loops();
      return;
    }
    log.write(LogLevel::info, "shutting down: no new connections; requests in flight finish",
              {{"open_connections", metrics.open_connections()}});
    boost::system::error_code ignored;
    if (unix_acceptor) unix_acceptor->close(ignored);
    for (auto &acceptor : tcp_acceptors) acceptor.close(ignored);
    registry.stop_all();
    asio::co_spawn(io, drain(), asio::detached);
  }

  asio::awaitable<void> drain() {
    auto deadline = std::chrono::steady_clock::now() + options.limits.drain_timeout;
    asio::steady_timer timer(io);
    while (metrics.open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(5ms);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (metrics.open_connections() > 0)
      log.write(LogLevel::warning, "drain timeout: closing connections still open",
                {{"open_connections", metrics.open_connections()}});
    stop_loops();
  }

  void wait_for_signal() {
    signals.async_wait([this](const boost::system::error_code &ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        log.write(LogLevel::info, "SIGHUP: reloading the policy");
        reload();
      } else {
        begin_shutdown();
      }
      wait_for_signal();
    });
  }
};

Agent::Agent(Store &store, AgentOptions options, AgentLog &log)
    : impl_(std::make_unique<Impl>(store, std::move(options), log)) {
  Impl &self = *impl_;
  if (!self.options.listen.empty() && self.options.tokens.empty())
    throw Error(Code::invalid_argument,
                "--listen needs at least one --token-file: every TCP request must carry a token");
  if (self.options.listen.empty() && !self.options.tokens.empty())
    throw Error(Code::invalid_argument,
                "--token-file is for --listen: Unix-socket peers are identified by the kernel");
  if (self.options.socket.empty() && self.options.listen.empty())
    throw Error(Code::invalid_argument, "nothing to serve on: give --socket or --listen");
  self.tokens = TokenTable::load(self.options.tokens);
  for (unsigned i = 1; i < io_threads(self.options.threads); ++i) {
    self.more_loops.push_back(std::make_unique<asio::io_context>(1));
    self.keep_running.push_back(asio::make_work_guard(*self.more_loops.back()));
  }
  if (auto activated = activated_unix_listener(self.io.get_executor())) {
    // systemd owns the socket file: it stays when the agent stops.
    self.unix_acceptor = std::move(activated->acceptor);
    self.endpoints.push_back("unix:" + activated->path.string());
  } else if (!self.options.socket.empty()) {
    self.unix_acceptor = open_unix_listener(
        self.io.get_executor(), UnixSocketOptions{self.options.socket, self.options.socket_group,
                                                  self.options.socket_mode});
    self.socket_created = true;
    self.endpoints.push_back("unix:" + self.options.socket.string());
  }
  for (const auto &address : self.options.listen) {
    self.tcp_acceptors.push_back(open_tcp_listener(self.io.get_executor(), address));
    auto endpoint = self.tcp_acceptors.back().local_endpoint();
    std::string host = endpoint.address().to_string();
    if (endpoint.address().is_v6()) host = "[" + host + "]";
    self.endpoints.push_back("tcp:" + host + ":" + std::to_string(endpoint.port()));
  }
}

Agent::~Agent() {
  Impl &self = *impl_;
  self.pool.join();
  // A get still in flight (run() returned at the drain timeout or a second
  // signal) is answered onto the event loop: it must still exist then.
  self.pending_gets.wait_idle();
  if (self.socket_created) ::unlink(self.options.socket.c_str());
}

std::vector<std::string> Agent::endpoints() const {
  return impl_->endpoints;
}

int Agent::run() {
  Impl &self = *impl_;
  if (self.unix_acceptor)
    asio::co_spawn(self.io, self.accept_loop(*self.unix_acceptor), asio::detached);
  for (auto &acceptor : self.tcp_acceptors)
    asio::co_spawn(self.io, self.accept_loop(acceptor), asio::detached);
  self.wait_for_signal();
  for (const auto &endpoint : self.endpoints)
    self.log.write(LogLevel::info, "listening", {{"address", endpoint}});
  self.log.write(LogLevel::info, "ready",
                 {{"generation", static_cast<std::int64_t>(self.store.generation())},
                  {"io_threads", static_cast<std::int64_t>(self.more_loops.size() + 1)}});

  std::vector<std::thread> threads;
  for (auto &loop : self.more_loops) threads.emplace_back([&loop] { loop->run(); });
  self.io.run();
  for (auto &thread : threads) thread.join();
  if (self.socket_created) {
    ::unlink(self.options.socket.c_str());
    self.socket_created = false;
  }
  self.log.write(LogLevel::info, "stopped");
  return 0;
}

}  // namespace coffer::agent

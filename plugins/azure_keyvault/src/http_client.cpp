// The HTTP client on Boost.Beast. The only translation unit of the plugin that
// includes Beast; the rest of the plugin sees http.hpp.
#include "http.hpp"

#include "handoff.hpp"
#include "trust_store.hpp"

#include "lazy_deadline.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <set>

namespace coffer::azure {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using coffer::provider::Error;
using coffer::provider::SecretBytes;
using error_code = boost::system::error_code;

// Headers, and the bytes read from and written to a connection, may carry
// tokens and values: all in secret memory.
using Fields = http::basic_fields<SecretAllocator<char>>;
using Buffer = beast::basic_flat_buffer<SecretAllocator<char>>;
// Asio's TLS stream, not Beast's ssl_stream: that one copies a request made
// of several buffers into a flat buffer of ordinary heap memory of its own,
// which it keeps for the life of the connection.
using TlsStream = ssl::stream<beast::tcp_stream>;

// A Beast body kept in SecretBytes: wiped when freed, and when it grows.
struct SecretBody {
  using value_type = SecretBytes;

  static std::uint64_t size(const value_type &body) { return body.size(); }

  class reader {
   public:
    template <bool isRequest, class HeaderFields>
    explicit reader(http::header<isRequest, HeaderFields> &, value_type &body) : body_(body) {}
    void init(const boost::optional<std::uint64_t> &, error_code &error) {
      body_.clear();
      error = {};
    }
    template <class ConstBufferSequence>
    std::size_t put(const ConstBufferSequence &buffers, error_code &error) {
      std::size_t total = 0;
      for (const auto &buffer : beast::buffers_range_ref(buffers)) {
        body_.append(static_cast<const unsigned char *>(buffer.data()), buffer.size());
        total += buffer.size();
      }
      error = {};
      return total;
    }
    void finish(error_code &error) { error = {}; }

   private:
    value_type &body_;
  };

  class writer {
   public:
    using const_buffers_type = asio::const_buffer;
    template <bool isRequest, class HeaderFields>
    explicit writer(const http::header<isRequest, HeaderFields> &, const value_type &body)
        : body_(body) {}
    void init(error_code &error) { error = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(error_code &error) {
      error = {};
      return {{const_buffers_type(body_.data(), body_.size()), false}};
    }

   private:
    const value_type &body_;
  };
};

// One connection; registered in the client's set of live connections for its
// whole life so that shutdown() can close it wherever it is.
struct Connection {
  Connection(Endpoint logical, std::set<Connection *> &live)
      : endpoint(std::move(logical)), live_(live) {
    live_.insert(this);
  }
  ~Connection() {
    close();
    live_.erase(this);
  }
  Connection(const Connection &) = delete;
  Connection &operator=(const Connection &) = delete;

  beast::tcp_stream &tcp() { return tls ? beast::get_lowest_layer(*tls) : *plain; }
  void close() {
    if (!tls && !plain) return;
    error_code ignored;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    tcp().socket().close(ignored);
  }

  // Bounds each exchange once the connection is open (the stream's own
  // per-operation timer bounds only the opening); cancels the socket when it
  // passes.
  void watch(const asio::any_io_executor &executor) {
    deadline = std::make_unique<coffer::net::LazyDeadline>(executor, [this] {
      error_code ignored;
      tcp().socket().cancel(ignored);
    });
  }

  Endpoint endpoint;
  std::unique_ptr<beast::tcp_stream> plain;  // before TLS, or for http://
  std::unique_ptr<TlsStream> tls;
  Buffer buffer;
  SteadyClock::time_point idle_since{};
  bool reused = false;
  std::unique_ptr<coffer::net::LazyDeadline> deadline;  // after the streams: stops first

 private:
  std::set<Connection *> &live_;
};

struct PoolWaiter {
  asio::steady_timer *timer = nullptr;
  std::unique_ptr<Connection> handed;  // an idle connection handed over, or
  bool permit = false;                 // the right to open a new one
  bool done = false;
};

// The latest TLS session a server issued for one host, offered when the next
// connection to that same host opens: a resumed handshake skips the
// certificate exchange and verification (which the first, full handshake
// did), the bulk of a client handshake's cost with OpenSSL 3.
class SessionSlot {
 public:
  SessionSlot() = default;
  SessionSlot(const SessionSlot &) = delete;
  SessionSlot &operator=(const SessionSlot &) = delete;
  ~SessionSlot() { replace(nullptr); }
  void replace(SSL_SESSION *session) {
    SSL_SESSION *previous = nullptr;
    {
      std::lock_guard lock(mutex_);
      previous = std::exchange(session_, session);
    }
    if (previous != nullptr) SSL_SESSION_free(previous);
  }
  // Offers the kept session, if any, to a connection about to shake hands.
  void offer(SSL *ssl) {
    std::lock_guard lock(mutex_);
    if (session_ != nullptr) SSL_set_session(ssl, session_);
  }

  // The SSL ex_data slot that points a connection at its host's SessionSlot.
  static int index() {
    static const int value = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return value;
  }
  // OpenSSL's new-session callback: keeps the session (taking ownership).
  static int keep(SSL *ssl, SSL_SESSION *session) {
    auto *slot = static_cast<SessionSlot *>(SSL_get_ex_data(ssl, index()));
    if (slot == nullptr) return 0;
    slot->replace(session);
    return 1;
  }

 private:
  std::mutex mutex_;  // the I/O thread and the lanes' callers share it
  SSL_SESSION *session_ = nullptr;
};

struct Pool {
  std::deque<std::unique_ptr<Connection>> idle;
  // Idle + in use + being opened, and the lanes (the lanes' host only):
  // changed by the I/O thread and by the lanes' callers.
  std::atomic<std::size_t> open = 0;
  std::size_t opening = 0;  // being opened
  std::list<PoolWaiter *> waiters;
  SessionSlot session;
};

// A connection for callers that wait (send_here), with an event loop of its
// own: the caller runs it for the one exchange it makes. Holds one of its
// host's connection slots for as long as it lives.
struct Lane {
  asio::io_context io{1};
  std::set<Connection *> live;
  std::unique_ptr<Connection> connection;  // null: none open (yet)
};

struct Lease {
  std::unique_ptr<Connection> connection;  // null: open a new one
};

struct Resolution {
  explicit Resolution(asio::io_context &io) : resolver(io), wake(io) {}
  tcp::resolver resolver;
  asio::steady_timer wake;
  bool finished = false;
  error_code error;
  tcp::resolver::results_type results;
};

std::string verify_failure(SSL *ssl) {
  long result = SSL_get_verify_result(ssl);
  if (result == X509_V_OK) return {};
  return X509_verify_cert_error_string(result);
}

bool is_stale_connection_error(const error_code &error) {
  return error == asio::error::eof || error == asio::error::connection_reset ||
         error == asio::error::broken_pipe || error == http::error::end_of_stream ||
         error == ssl::error::stream_truncated || error == asio::error::connection_aborted;
}

std::optional<http::verb> verb_for(std::string_view method) {
  http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) return std::nullopt;
  return verb;
}

std::string host_header(const Endpoint &endpoint) {
  std::string origin = endpoint.origin();
  return origin.substr(origin.find("://") + 3);
}

// Writes the whole message, header and body, into `out`.
void serialize(http::request<SecretBody, Fields> &message, Buffer &out, error_code &error) {
  http::request_serializer<SecretBody, Fields> serializer(message);
  do {
    serializer.next(error, [&](error_code &step, const auto &buffers) {
      step = {};
      const std::size_t size = beast::buffer_bytes(buffers);
      out.commit(asio::buffer_copy(out.prepare(size), buffers));
      serializer.consume(size);
    });
  } while (!error && !serializer.is_done());
}

// Wipes what an emptied buffer held: consumed bytes stay in its memory
// until overwritten.
void wipe_read_bytes(Buffer &buffer) {
  buffer.clear();
  auto space = buffer.prepare(buffer.capacity());
  coffer::provider::wipe(space.data(), space.size());
}

}  // namespace

std::string_view transport_error_name(TransportError error) noexcept {
  switch (error) {
    case TransportError::none:
      return "none";
    case TransportError::resolve:
      return "name resolution";
    case TransportError::connect:
      return "connect";
    case TransportError::proxy:
      return "proxy";
    case TransportError::tls:
      return "TLS";
    case TransportError::timeout:
      return "timeout";
    case TransportError::io:
      return "connection";
    case TransportError::protocol:
      return "protocol";
    case TransportError::shutdown:
      return "shutdown";
  }
  return "unknown";
}

namespace {

// The TLS settings of every connection of every instance: one SSL_CTX for the
// plugin, read-only once made (creating one cost OpenSSL 3 about 2.4 million
// instructions, half a millisecond, per instance). Each connection gets its
// instance's trust store (SSL_set1_verify_cert_store).
class SharedClientContext {
 public:
  SharedClientContext() : context_(SSL_CTX_new(TLS_client_method())) {
    if (context_ == nullptr) return;
    SSL_CTX_set_min_proto_version(context_, TLS1_2_VERSION);
    // OpenSSL decrypts a record in place and would keep its plaintext (a
    // token, a value) in its read buffer until the next record overwrites it.
    SSL_CTX_set_options(context_, SSL_OP_ALL | SSL_OP_NO_COMPRESSION | SSL_OP_CLEANSE_PLAINTEXT);
    SSL_CTX_set_session_cache_mode(context_,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(context_, &SessionSlot::keep);
    SSL_CTX_set_verify(context_, SSL_VERIFY_PEER, nullptr);
    SSL_CTX_set_cert_verify_callback(context_, &verify_one_at_a_time, nullptr);
  }
  ~SharedClientContext() { SSL_CTX_free(context_); }
  SharedClientContext(const SharedClientContext &) = delete;
  SharedClientContext &operator=(const SharedClientContext &) = delete;

  // Verifies a server's chain as OpenSSL would, one chain at a time in the
  // process. The trust stores are shared, and OpenSSL 3.0 changes a store
  // while it verifies (it adds certificates read lazily from a hashed CA
  // directory, under the store's lock, while another thread's verification
  // reads them without it): ThreadSanitizer saw exactly that between an
  // I/O thread and a lane. A verification takes tens of microseconds, once
  // per new connection.
  static int verify_one_at_a_time(X509_STORE_CTX *chain, void * /*unused*/) {
    static std::mutex verifying;
    std::lock_guard lock(verifying);
    return X509_verify_cert(chain);
  }

  // A new reference, for an ssl::context to own; throws when OpenSSL could
  // not make the context.
  static SSL_CTX *acquire() {
    static SharedClientContext shared;
    if (shared.context_ == nullptr || SSL_CTX_up_ref(shared.context_) != 1)
      throw Error(COFFER_STATUS_INTERNAL, "cannot create a TLS context: " + take_openssl_error());
    return shared.context_;
  }

 private:
  SSL_CTX *context_;
};

}  // namespace

class HttpClient::Impl {
 public:
  Impl(asio::io_context &io, HttpClientOptions options, const coffer::provider::Host &log)
      : io_(io), options_(std::move(options)), log_(log), tls_(SharedClientContext::acquire()) {
    // The trust store (the system bundle: a hundred and more certificates to
    // parse) is built before the first connection, not here, so that opening
    // a provider stays cheap; a bad ca_file is still refused at once.
    if (!options_.ca_file.empty()) check_ca_file(options_.ca_file);
    if (options_.lanes_for) lane_pool_ = &pools_[options_.lanes_for->origin()];
  }

  ~Impl() {
    shutdown();
    X509_STORE_free(trust_);
  }

  asio::awaitable<HttpResult> send(const HttpRequest &request, Deadline deadline) {
    PoolSource source{*this, pools_[request.url.endpoint.origin()]};
    co_return co_await send_via(source, request, deadline);
  }

  std::optional<HttpResult> send_here(const HttpRequest &request, Deadline deadline) {
    if (lane_pool_ == nullptr || !(request.url.endpoint == *options_.lanes_for) ||
        io_.get_executor().running_in_this_thread())
      return std::nullopt;
    bool closed = false;
    std::unique_ptr<Lane> lane = take_lane(closed);
    if (closed) return failure(TransportError::shutdown, "the instance is closing");
    if (!lane) return std::nullopt;
    std::optional<HttpResult> result;
    try {
      LaneSource source{*this, *lane};
      result = run_on(*lane, send_via(source, request, deadline));
    } catch (...) {
      lane->connection.reset();
      give_back(std::move(lane));
      throw;
    }
    give_back(std::move(lane));
    return result;
  }

  void open_lane(Deadline deadline) {
    if (lane_pool_ == nullptr || io_.get_executor().running_in_this_thread()) return;
    {
      std::lock_guard lock(lanes_mutex_);
      if (!idle_lanes_.empty()) return;
    }
    bool closed = false;
    std::unique_ptr<Lane> lane = take_lane(closed);
    if (!lane) return;
    if (lane->connection) {  // one came back meanwhile
      give_back(std::move(lane));
      return;
    }
    try {
      load_trust();
      LaneSource source{*this, *lane};
      HttpResult failed;  // the request that needs the lane reports what fails
      const Deadline open_by = earliest(deadline, SteadyClock::now() + options_.connect_timeout);
      lane->connection = run_on(*lane, open(source, *options_.lanes_for, open_by, failed));
      if (lane->connection) lane->connection->idle_since = SteadyClock::now();
    } catch (const std::exception &) {
      lane->connection.reset();
    }
    give_back(std::move(lane));
  }

  void shutdown() {
    if (closed_.exchange(true)) return;
    std::vector<std::unique_ptr<Lane>> idle_lanes;
    {
      std::lock_guard lock(lanes_mutex_);
      idle_lanes.swap(idle_lanes_);
      for (Lane *lane : busy_lanes_) lane->io.stop();  // its caller closes its connection
    }
    idle_lanes.clear();
    for (auto &[origin, pool] : pools_) {
      pool.idle.clear();
      std::list<PoolWaiter *> waking;
      waking.swap(pool.waiters);
      for (PoolWaiter *waiter : waking) {
        waiter->done = true;
        waiter->timer->cancel();
      }
    }
    for (Connection *connection : live_) connection->close();
    for (Resolution *resolution : resolving_) resolution->wake.cancel();
  }

  [[nodiscard]] HttpClientStats stats() const noexcept {
    return {.connections_opened = stats_.connections_opened,
            .tls_sessions_resumed = stats_.tls_sessions_resumed,
            .requests = stats_.requests};
  }

 private:
  static HttpResult failure(TransportError error, std::string message) {
    HttpResult result;
    result.error = error;
    result.message = std::move(message);
    return result;
  }

  // Where send_via() takes its connections from, and on which event loop it
  // runs them: a host's pool on the I/O thread, or a lane on the thread of a
  // caller that waits.
  struct PoolSource {
    Impl &client;
    Pool &pool;
    asio::any_io_executor executor() const { return client.io_.get_executor(); }
    std::set<Connection *> &live() const { return client.live_; }
    SessionSlot &session() const { return pool.session; }
    asio::awaitable<std::optional<Lease>> acquire(Deadline deadline) const {
      return client.acquire(pool, deadline);
    }
    asio::awaitable<tcp::resolver::results_type> resolve(const Endpoint &target, Deadline deadline,
                                                         error_code &error) const {
      return client.resolve(target, deadline, error);
    }
    void opened() const { client.finished_opening(pool); }
    void release(std::unique_ptr<Connection> connection) const {
      client.release(pool, std::move(connection));
    }
  };
  struct LaneSource {
    Impl &client;
    Lane &lane;
    asio::any_io_executor executor() const { return lane.io.get_executor(); }
    std::set<Connection *> &live() const { return lane.live; }
    SessionSlot &session() const { return client.lane_pool_->session; }
    // The lane's connection, or (none open) the right to open one: the lane
    // holds its slot.
    asio::awaitable<std::optional<Lease>> acquire(Deadline) const {
      co_return Lease{std::move(lane.connection)};
    }
    asio::awaitable<tcp::resolver::results_type> resolve(const Endpoint &target, Deadline deadline,
                                                         error_code &error) const {
      return client.resolve_on_io_thread(target, deadline, error);
    }
    void opened() const {}
    void release(std::unique_ptr<Connection> connection) const {
      lane.connection = std::move(connection);
    }
  };

  template <class Source>
  asio::awaitable<HttpResult> send_via(const Source &source, const HttpRequest &request,
                                       Deadline deadline) {
    if (closed_) co_return failure(TransportError::shutdown, "the instance is closing");
    load_trust();
    auto verb = verb_for(request.method);
    if (!verb) co_return failure(TransportError::protocol, "unknown method " + request.method);
    const Endpoint &endpoint = request.url.endpoint;
    for (int round = 0;; ++round) {
      std::optional<Lease> lease = co_await source.acquire(deadline);
      if (!lease) {
        if (closed_) co_return failure(TransportError::shutdown, "the instance is closing");
        co_return failure(TransportError::timeout,
                          "no connection to " + endpoint.authority() +
                              " became free in time (max_connections_per_host is " +
                              std::to_string(options_.max_connections_per_host) + ")");
      }
      std::unique_ptr<Connection> connection = std::move(lease->connection);
      if (!connection) {
        HttpResult attempt;
        const Deadline open_by = earliest(deadline, SteadyClock::now() + options_.connect_timeout);
        connection = co_await open(source, endpoint, open_by, attempt);
        source.opened();
        if (!connection) {
          source.release(nullptr);
          co_return attempt;
        }
      }
      const bool reused = connection->reused;
      bool stale = false;
      bool keep = false;
      const Deadline answer_by = earliest(deadline, SteadyClock::now() + options_.request_timeout);
      HttpResult result = co_await exchange(*connection, *verb, request, answer_by, stale, keep);
      ++stats_.requests;
      if (result.ok() && keep && !closed_) {
        connection->reused = true;
        connection->idle_since = SteadyClock::now();
        source.release(std::move(connection));
      } else {
        connection.reset();
        source.release(nullptr);
      }
      if (!result.ok() && stale && reused && round == 0 && !closed_) {
        if (log_.enabled(COFFER_LOG_DEBUG))
          log_.debug("a kept-alive connection to " + endpoint.authority() +
                     " was closed by the server; retrying on a new connection");
        continue;
      }
      co_return result;
    }
  }

  // The lanes hold at most half of their host's connections: asynchronous
  // requests keep the other half.
  [[nodiscard]] std::size_t max_lanes() const { return options_.max_connections_per_host / 2; }

  // An idle lane, or a new one when the caps allow; null when neither, or
  // when the client is shutting down (`closed`).
  std::unique_ptr<Lane> take_lane(bool &closed) {
    std::vector<std::unique_ptr<Lane>> expired;  // dropped outside the lock
    std::unique_ptr<Lane> lane;
    {
      std::lock_guard lock(lanes_mutex_);
      closed = closed_;
      if (closed) return nullptr;
      const auto now = SteadyClock::now();
      std::erase_if(idle_lanes_, [&](std::unique_ptr<Lane> &idle) {
        if (now - idle->connection->idle_since < options_.idle_timeout) return false;
        expired.push_back(std::move(idle));
        return true;
      });
      if (!idle_lanes_.empty()) {
        lane = std::move(idle_lanes_.back());  // the most recently used
        idle_lanes_.pop_back();
      } else if (lanes_ - expired.size() < max_lanes() && take_slot(*lane_pool_)) {
        lane = std::make_unique<Lane>();
        ++lanes_;
      }
      if (lane) busy_lanes_.insert(lane.get());
    }
    for (std::unique_ptr<Lane> &gone : expired) drop_lane(std::move(gone));
    return lane;
  }

  // A lane after its exchange: kept while its connection is.
  void give_back(std::unique_ptr<Lane> lane) {
    {
      std::lock_guard lock(lanes_mutex_);
      busy_lanes_.erase(lane.get());
      if (lane->connection && !closed_) {
        idle_lanes_.push_back(std::move(lane));
        return;
      }
    }
    drop_lane(std::move(lane));
  }

  // Closes a lane and frees its slot for the pool's waiting requests.
  void drop_lane(std::unique_ptr<Lane> lane) {
    lane.reset();
    {
      std::lock_guard lock(lanes_mutex_);
      --lanes_;
    }
    lane_pool_->open.fetch_sub(1);
    asio::post(io_, [this] { dispatch(*lane_pool_); });
  }

  // Runs `operation` to its end on the lane's event loop, on the calling
  // thread. When the client shuts down meanwhile (it stops the loop), the
  // lane's connection is closed, which ends the operation at once.
  template <class T>
  T run_on(Lane &lane, asio::awaitable<T> operation) {
    std::optional<T> value;
    std::exception_ptr error;
    asio::co_spawn(lane.io, std::move(operation), [&](std::exception_ptr thrown, T result) {
      if (thrown)
        error = thrown;
      else
        value.emplace(std::move(result));
    });
    bool cut = false;
    int idle_turns = 0;
    while (!value && !error) {
      if (closed_ && !cut) {
        cut = true;
        for (Connection *connection : lane.live) connection->close();
      }
      if (lane.io.stopped()) lane.io.restart();
      if (lane.io.run_one() != 0) {
        idle_turns = 0;
      } else if (++idle_turns > 3) {
        throw Error(COFFER_STATUS_INTERNAL, "a connection's event loop ran out of work");
      }
    }
    if (error) std::rethrow_exception(error);
    return std::move(*value);
  }

  struct Lookup {
    tcp::resolver::results_type results;
    error_code error;
  };
  // resolve(), with arguments and outcome its own (a lane may stop waiting).
  asio::awaitable<Lookup> look_up(Endpoint target, Deadline deadline) {
    Lookup out;
    out.results = co_await resolve(target, deadline, out.error);
    co_return out;
  }

  // Resolves on the I/O thread (whose resolver owns the lookup thread) for a
  // lane, whose loop has nothing else to do meanwhile.
  asio::awaitable<tcp::resolver::results_type> resolve_on_io_thread(const Endpoint &target,
                                                                    Deadline deadline,
                                                                    error_code &error) {
    // The lookup ends by its deadline, or at shutdown.
    std::optional<Lookup> resolved =
        wait_on_io_thread(io_, look_up(target, deadline), deadline + std::chrono::seconds(1));
    if (!resolved) {
      error = beast::error::timeout;
      co_return tcp::resolver::results_type{};
    }
    error = resolved->error;
    co_return resolved->results;
  }

  // Builds the trust store once, before the first connection (on whichever
  // thread sends first); throws Error(INVALID_CONFIG) when the CA file no
  // longer loads, before any connection slot is taken.
  void load_trust() {
    std::call_once(trust_loaded_, [this] { trust_ = trust_store(options_.ca_file); });
  }

  // Takes one of the pool's connection slots when fewer than
  // max_connections_per_host are taken.
  bool take_slot(Pool &pool) const {
    std::size_t open = pool.open.load();
    do {
      if (open >= options_.max_connections_per_host) return false;
    } while (!pool.open.compare_exchange_weak(open, open + 1));
    return true;
  }

  // An idle connection, the right to open one, or nothing (deadline or shutdown).
  asio::awaitable<std::optional<Lease>> acquire(Pool &pool, Deadline deadline) {
    drop_expired(pool);
    if (pool.waiters.empty()) {
      if (!pool.idle.empty()) {
        std::unique_ptr<Connection> connection = std::move(pool.idle.front());
        pool.idle.pop_front();
        co_return Lease{std::move(connection)};
      }
      if (take_open_permit(pool)) co_return Lease{};
    }
    asio::steady_timer timer(io_, deadline);
    PoolWaiter waiter;
    waiter.timer = &timer;
    auto position = pool.waiters.insert(pool.waiters.end(), &waiter);
    error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (!waiter.done) {
      pool.waiters.erase(position);
      co_return std::nullopt;
    }
    if (closed_) co_return std::nullopt;
    if (waiter.handed) co_return Lease{std::move(waiter.handed)};
    co_return Lease{};  // permit
  }

  // The right to open a new connection: below the bound, and few enough
  // handshakes already under way. Bursts are mostly served by connections
  // that come free meanwhile instead of one new handshake per queued request.
  bool take_open_permit(Pool &pool) const {
    if (pool.opening >= options_.max_concurrent_connects || !take_slot(pool)) return false;
    ++pool.opening;
    return true;
  }

  void drop_expired(Pool &pool) {
    const auto now = SteadyClock::now();
    std::erase_if(pool.idle, [&](const std::unique_ptr<Connection> &connection) {
      bool expired = now - connection->idle_since >= options_.idle_timeout ||
                     !connection->tcp().socket().is_open();
      if (expired) pool.open.fetch_sub(1);
      return expired;
    });
  }

  // Hands idle connections, and permits to open new ones, to waiting requests
  // in arrival order.
  void dispatch(Pool &pool) {
    if (closed_) return;
    while (!pool.waiters.empty()) {
      PoolWaiter *waiter = pool.waiters.front();
      if (!pool.idle.empty()) {
        waiter->handed = std::move(pool.idle.front());
        pool.idle.pop_front();
      } else if (take_open_permit(pool)) {
        waiter->permit = true;
      } else {
        return;
      }
      pool.waiters.pop_front();
      waiter->done = true;
      waiter->timer->cancel();
    }
  }

  // Gives a connection back (or, when null, the slot of a closed one).
  void release(Pool &pool, std::unique_ptr<Connection> connection) {
    if (connection && !closed_)
      pool.idle.push_back(std::move(connection));
    else
      pool.open.fetch_sub(1);
    dispatch(pool);
  }

  // An attempt to open a connection has finished, either way.
  void finished_opening(Pool &pool) {
    if (pool.opening > 0) --pool.opening;
    dispatch(pool);
  }

  asio::awaitable<tcp::resolver::results_type> resolve(const Endpoint &target, Deadline deadline,
                                                       error_code &error) {
    auto state = std::make_shared<Resolution>(io_);
    state->wake.expires_at(deadline);
    resolving_.insert(state.get());
    state->resolver.async_resolve(
        target.host, std::to_string(target.port),
        [state](const error_code &resolved, tcp::resolver::results_type results) {
          if (state->finished) return;
          state->finished = true;
          state->error = resolved;
          state->results = std::move(results);
          state->wake.cancel();
        });
    error_code ignored;
    co_await state->wake.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    resolving_.erase(state.get());
    if (!state->finished) {
      state->finished = true;
      state->resolver.cancel();
      error =
          closed_ ? error_code(asio::error::operation_aborted) : error_code(beast::error::timeout);
      co_return tcp::resolver::results_type{};
    }
    error = state->error;
    co_return state->results;
  }

  // Opens a connection (resolve, connect, CONNECT tunnel, TLS handshake); on
  // failure returns null and fills `result`.
  template <class Source>
  asio::awaitable<std::unique_ptr<Connection>> open(const Source &source, const Endpoint &endpoint,
                                                    Deadline deadline, HttpResult &result) {
    Endpoint target = endpoint;
    if (options_.connect_to && endpoint == options_.connect_to_for) {
      target.host = options_.connect_to->host;
      target.port = options_.connect_to->port;
    }
    const Endpoint *proxy = endpoint.tls ? options_.proxy.proxy_for(endpoint.host) : nullptr;
    const Endpoint &dial = proxy != nullptr ? *proxy : target;
    const std::string via =
        proxy != nullptr ? " through the proxy " + options_.proxy.describe() : std::string();

    error_code error;
    // An address needs no lookup, nor a trip to the resolver's thread (a
    // private endpoint named by connect_to, a proxy given by address).
    std::vector<tcp::endpoint> addresses;
    if (is_ip_literal(dial.host))
      addresses.emplace_back(asio::ip::make_address(dial.host), dial.port);
    else {
      auto found = co_await source.resolve(dial, deadline, error);
      for (const auto &entry : found) addresses.push_back(entry.endpoint());
    }
    if (error) {
      result = failure(
          error == beast::error::timeout ? TransportError::timeout : TransportError::resolve,
          "cannot resolve " + dial.host + ": " + error.message());
      co_return nullptr;
    }
    auto connection = std::make_unique<Connection>(endpoint, source.live());
    connection->plain = std::make_unique<beast::tcp_stream>(source.executor());
    connection->plain->expires_at(deadline);
    co_await connection->plain->async_connect(addresses,
                                              asio::redirect_error(asio::use_awaitable, error));
    if (error) {
      result = failure(
          error == beast::error::timeout ? TransportError::timeout : TransportError::connect,
          "cannot connect to " + dial.authority() + ": " + error.message());
      co_return nullptr;
    }
    connection->plain->socket().set_option(tcp::no_delay(true), error);
    ++stats_.connections_opened;

    if (proxy != nullptr) {
      const bool tunnelled = co_await tunnel(*connection, target, result);
      if (!tunnelled) co_return nullptr;
    }
    if (endpoint.tls) {
      connection->tls = std::make_unique<TlsStream>(std::move(*connection->plain), tls_);
      connection->plain.reset();
      SSL *ssl = connection->tls->native_handle();
      if (SSL_set1_verify_cert_store(ssl, trust_) != 1) {
        result = failure(TransportError::tls, "cannot set the trusted certificates");
        co_return nullptr;
      }
      // Asio asks OpenSSL to free a connection's record buffers whenever they
      // empty; with SSL_OP_CLEANSE_PLAINTEXT each release wipes the whole
      // 16 KiB read buffer, and the next record allocates it again: per
      // answer, about 10,000 instructions and two large allocations. Kept,
      // the buffers still lose each plaintext as it is read (the option's
      // per-read wipe) and are wiped whole when the connection is freed.
      SSL_clear_mode(ssl, SSL_MODE_RELEASE_BUFFERS);
      if (!is_ip_literal(endpoint.host))
        SSL_set_tlsext_host_name(ssl, endpoint.host.c_str());  // SNI
      // TLS sessions are kept per host: one is only offered to the host
      // whose certificate the full handshake verified.
      SSL_set_ex_data(ssl, SessionSlot::index(), &source.session());
      source.session().offer(ssl);
      // Verify the certificate against the URL's host, whatever address the
      // connection went to (connect_to, proxy).
      if (SSL_set1_host(ssl, endpoint.host.c_str()) != 1) {
        result = failure(TransportError::tls, "cannot verify the host name " + endpoint.host);
        co_return nullptr;
      }
      connection->tls->set_verify_mode(ssl::verify_peer);
      co_await connection->tls->async_handshake(ssl::stream_base::client,
                                                asio::redirect_error(asio::use_awaitable, error));
      if (error) {
        std::string reason = verify_failure(ssl);
        result = failure(
            error == beast::error::timeout ? TransportError::timeout : TransportError::tls,
            "TLS handshake with " + endpoint.authority() + via + " failed: " + error.message() +
                (reason.empty() ? "" : " (" + reason + ")"));
        // A rejected certificate stays rejected: no point in retrying.
        if (!reason.empty()) result.retryable = false;
        co_return nullptr;
      }
    }
    connection->tcp().expires_never();
    connection->watch(source.executor());
    if (connection->tls && SSL_session_reused(connection->tls->native_handle()) == 1)
      ++stats_.tls_sessions_resumed;
    if (log_.enabled(COFFER_LOG_DEBUG))
      log_.debug("connected to " + endpoint.authority() +
                 (target == endpoint ? std::string() : " at " + target.authority()) + via +
                 (connection->tls && SSL_session_reused(connection->tls->native_handle()) == 1
                      ? " (TLS session resumed)"
                      : ""));
    co_return connection;
  }

  // The tunnel runs under the connect deadline already set on the stream.
  asio::awaitable<bool> tunnel(Connection &connection, const Endpoint &target, HttpResult &result) {
    http::request<http::empty_body, Fields> connect;
    connect.method(http::verb::connect);
    connect.target(target.authority());
    connect.version(11);
    connect.set(http::field::host, target.authority());
    connect.set(http::field::user_agent, options_.user_agent);
    const SecretBytes &authorization = options_.proxy.authorization();
    if (!authorization.empty()) connect.set(http::field::proxy_authorization, authorization.view());
    error_code error;
    co_await http::async_write(*connection.plain, connect,
                               asio::redirect_error(asio::use_awaitable, error));
    http::response_parser<http::empty_body> parser;
    parser.skip(true);  // a CONNECT answer has no body
    if (!error)
      co_await http::async_read(*connection.plain, connection.buffer, parser,
                                asio::redirect_error(asio::use_awaitable, error));
    const std::string proxy_name = options_.proxy.describe();
    if (error) {
      result =
          failure(error == beast::error::timeout ? TransportError::timeout : TransportError::proxy,
                  "the proxy " + proxy_name + " broke the tunnel to " + target.authority() + ": " +
                      error.message());
      co_return false;
    }
    unsigned status = parser.get().result_int();
    if (status / 100 != 2) {
      result = failure(TransportError::proxy,
                       "the proxy " + proxy_name + " refused the tunnel to " + target.authority() +
                           " with HTTP " + std::to_string(status) +
                           (status == 407 ? " (proxy authentication required: put user:password "
                                            "in the proxy URL)"
                                          : ""));
      result.retryable = status != 407 && status != 403;
      co_return false;
    }
    if (connection.buffer.size() != 0) {
      result = failure(TransportError::proxy,
                       "the proxy " + proxy_name + " sent data after accepting the tunnel");
      co_return false;
    }
    co_return true;
  }

  // The request goes out as one buffer in secret memory (see TlsStream).
  template <class Stream>
  asio::awaitable<void> exchange_on(
      Stream &stream, Connection &connection, http::request<SecretBody, Fields> &message,
      http::response_parser<SecretBody, SecretAllocator<char>> &parser, error_code &error) {
    Buffer serialized;
    serialize(message, serialized, error);
    if (error) co_return;
    co_await asio::async_write(stream, serialized.data(),
                               asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return;
    co_await http::async_read(stream, connection.buffer, parser,
                              asio::redirect_error(asio::use_awaitable, error));
  }

  asio::awaitable<HttpResult> exchange(Connection &connection, http::verb verb,
                                       const HttpRequest &request, Deadline deadline, bool &stale,
                                       bool &keep) {
    http::request<SecretBody, Fields> message;
    message.method(verb);
    message.target(request.url.target());
    message.version(11);
    message.set(http::field::host, host_header(request.url.endpoint));
    message.set(http::field::user_agent, options_.user_agent);
    for (const auto &[name, value] : request.headers) message.set(name, value);
    if (!request.authorization.empty())
      message.set(http::field::authorization,
                  std::string_view(request.authorization.data(), request.authorization.size()));
    if (!request.body.empty() || verb == http::verb::put || verb == http::verb::post ||
        verb == http::verb::patch) {
      if (!request.content_type.empty())
        message.set(http::field::content_type, request.content_type);
      message.body() = request.body.clone();
    }
    message.keep_alive(true);
    message.prepare_payload();

    http::response_parser<SecretBody, SecretAllocator<char>> parser;
    parser.body_limit(options_.max_body_bytes);
    // Moving a kept-alive connection's deadline later touches no timer.
    connection.deadline->set(deadline);
    error_code error;
    if (connection.tls)
      co_await exchange_on(*connection.tls, connection, message, parser, error);
    else
      co_await exchange_on(*connection.plain, connection, message, parser, error);
    const bool timed_out = connection.deadline->expired();
    connection.deadline->set(SteadyClock::time_point::max());  // idle: no deadline
    if (error) {
      const std::string where =
          request.method + " " + request.url.endpoint.origin() + request.url.path;
      stale = !timed_out && !parser.got_some() && is_stale_connection_error(error);
      if (closed_) co_return failure(TransportError::shutdown, "the instance is closing");
      if (timed_out)
        co_return failure(TransportError::timeout, where + ": no complete answer in time");
      if (error.category() == http::make_error_code(http::error::end_of_stream).category() &&
          error != http::error::end_of_stream && error != http::error::partial_message)
        co_return failure(TransportError::protocol,
                          where + ": the answer is not valid HTTP (" + error.message() + ")");
      co_return failure(TransportError::io,
                        where + ": the connection failed (" + error.message() + ")");
    }
    auto &response = parser.get();
    HttpResult result;
    result.response.status = response.result_int();
    for (const auto &field : response) {
      if (field.name() == http::field::www_authenticate) {
        if (!result.response.www_authenticate.empty()) result.response.www_authenticate += ", ";
        result.response.www_authenticate += std::string(field.value());
      } else if (field.name() == http::field::retry_after) {
        result.response.retry_after = std::string(field.value());
      } else if (beast::iequals(field.name_string(), "retry-after-ms") ||
                 beast::iequals(field.name_string(), "x-ms-retry-after-ms")) {
        result.response.retry_after_ms = std::string(field.value());
      } else if (beast::iequals(field.name_string(), "x-ms-request-id")) {
        result.response.request_id = std::string(field.value().substr(0, 64));
      }
    }
    result.response.body = std::move(response.body());
    // Bytes after the answer would be a protocol error; without them the
    // buffer can be wiped before the connection waits in the pool.
    keep = response.keep_alive() && parser.is_done() && connection.buffer.size() == 0;
    if (keep) wipe_read_bytes(connection.buffer);
    co_return result;
  }

  asio::io_context &io_;
  HttpClientOptions options_;
  const coffer::provider::Host &log_;
  ssl::context tls_;  // the plugin's one SSL_CTX
  std::once_flag trust_loaded_;
  X509_STORE *trust_ = nullptr;  // from the first send on; one reference
  std::map<std::string, Pool> pools_;
  std::set<Connection *> live_;
  std::set<Resolution *> resolving_;
  std::atomic<bool> closed_ = false;
  struct {
    std::atomic<uint64_t> connections_opened = 0;
    std::atomic<uint64_t> tls_sessions_resumed = 0;
    std::atomic<uint64_t> requests = 0;
  } stats_;
  // The lanes' host's pool (whose slots and TLS session they share), or null.
  Pool *lane_pool_ = nullptr;
  std::mutex lanes_mutex_;
  std::vector<std::unique_ptr<Lane>> idle_lanes_;
  std::set<Lane *> busy_lanes_;
  std::size_t lanes_ = 0;  // idle and busy
};

HttpClient::HttpClient(asio::io_context &io, HttpClientOptions options,
                       const coffer::provider::Host &log)
    : impl_(std::make_unique<Impl>(io, std::move(options), log)) {}

HttpClient::~HttpClient() = default;

asio::awaitable<HttpResult> HttpClient::send(const HttpRequest &request, Deadline deadline) {
  return impl_->send(request, deadline);
}

void HttpClient::shutdown() {
  impl_->shutdown();
}

std::optional<HttpResult> HttpClient::send_here(const HttpRequest &request, Deadline deadline) {
  return impl_->send_here(request, deadline);
}

void HttpClient::open_lane(Deadline deadline) {
  impl_->open_lane(deadline);
}

HttpClientStats HttpClient::stats() const noexcept {
  return impl_->stats();
}

}  // namespace coffer::azure

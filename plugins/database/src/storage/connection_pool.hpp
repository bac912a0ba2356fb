// A small pool of database connections, created on demand up to a capacity.
// acquire() blocks while every connection is in use. A Lease returns its
// connection when destroyed, unless discard() was called (a broken
// connection), in which case a new one is made next time. Thread-safe.
#ifndef COFFER_DATABASE_STORAGE_CONNECTION_POOL_HPP
#define COFFER_DATABASE_STORAGE_CONNECTION_POOL_HPP

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>
#include <vector>

namespace coffer::database {

template <class Connection>
class ConnectionPool {
 public:
  using Factory = std::function<std::unique_ptr<Connection>()>;

  ConnectionPool(std::size_t capacity, Factory factory)
      : capacity_(capacity == 0 ? 1 : capacity), factory_(std::move(factory)) {}
  ConnectionPool(const ConnectionPool &) = delete;
  ConnectionPool &operator=(const ConnectionPool &) = delete;

  class Lease {
   public:
    Lease(ConnectionPool *pool, std::unique_ptr<Connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease &&other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}
    Lease &operator=(Lease &&) = delete;
    Lease(const Lease &) = delete;
    Lease &operator=(const Lease &) = delete;
    ~Lease() {
      if (pool_ != nullptr) pool_->give_back(std::move(connection_));
    }
    Connection &operator*() const { return *connection_; }
    Connection *operator->() const { return connection_.get(); }
    // Drops the connection instead of returning it to the pool.
    void discard() { connection_.reset(); }

   private:
    ConnectionPool *pool_;
    std::unique_ptr<Connection> connection_;
  };

  // Throws whatever the factory throws.
  Lease acquire() {
    std::unique_lock lock(mutex_);
    available_.wait(lock, [&] { return !idle_.empty() || in_use_ < capacity_; });
    ++in_use_;
    if (!idle_.empty()) {
      auto connection = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(connection));
    }
    lock.unlock();
    try {
      return Lease(this, factory_());
    } catch (...) {
      give_back(nullptr);
      throw;
    }
  }

  // Closes the idle connections (the next acquire() makes new ones); returns
  // how many.
  std::size_t drop_idle() {
    std::vector<std::unique_ptr<Connection>> dropped;
    std::lock_guard lock(mutex_);
    dropped.swap(idle_);
    return dropped.size();
  }

 private:
  void give_back(std::unique_ptr<Connection> connection) {
    {
      std::lock_guard lock(mutex_);
      --in_use_;
      if (connection) idle_.push_back(std::move(connection));
    }
    available_.notify_one();
  }

  const std::size_t capacity_;
  Factory factory_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::size_t in_use_ = 0;
};

}  // namespace coffer::database

#endif  // COFFER_DATABASE_STORAGE_CONNECTION_POOL_HPP

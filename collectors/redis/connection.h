// One blocking connection to a Redis server (hiredis), with every read and write bounded by a
// deadline. Not thread-safe: owned by one collector instance and used from its worker thread.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "collectors/redis/address.h"
#include "collectors/redis/pipeline.h"
#include "collectors/redis/replies.h"

struct redisContext;

namespace tacho::collectors::redis {

class Connection {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects within `connect_timeout`. The error names the address and the cause
  // ("127.0.0.1:6379: Connection refused").
  static Expected<std::unique_ptr<Connection>, std::string> Open(
      const Address& address, std::chrono::milliseconds connect_timeout);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends every command of `pipeline` in one write, then reads one reply per command and
  // delivers them to it. Each socket read and write is bounded by the time left until
  // `deadline` (redisSetTimeout). An error reply is a Reply of type kError, not a failure. Any
  // I/O error, a timeout or a protocol error returns an error and leaves the connection
  // broken(): discard it.
  Status Exchange(Pipeline& pipeline, Clock::time_point deadline);
  Expected<Reply, std::string> Run(const Command& command, Clock::time_point deadline);

  bool broken() const { return broken_; }

 private:
  Connection(redisContext* context, std::string name) : context_(context), name_(std::move(name)) {}
  bool SetTimeout(Clock::time_point deadline);
  std::string Failure(const std::string& what);

  redisContext* context_;
  std::string name_;  // the address, for error messages
  bool broken_ = false;
};

}  // namespace tacho::collectors::redis

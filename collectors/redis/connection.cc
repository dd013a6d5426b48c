#include "collectors/redis/connection.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <algorithm>

#include "collectors/redis/resp.h"

namespace tacho::collectors::redis {
namespace {

// A socket timeout slightly past the collection's deadline, so that the runtime's deadline
// fires first and the collection is counted as timed out rather than as a plain failure.
constexpr std::chrono::milliseconds kDeadlineSlack{50};

timeval ToTimeval(std::chrono::milliseconds ms) {
  // Zero means "no timeout" to setsockopt: never pass it.
  ms = std::max(ms, std::chrono::milliseconds(1));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

}  // namespace

Expected<std::unique_ptr<Connection>, std::string> Connection::Open(
    const Address& address, std::chrono::milliseconds connect_timeout) {
  const timeval tv = ToTimeval(connect_timeout);
  redisContext* c = address.is_unix()
                        ? redisConnectUnixWithTimeout(address.socket_path.c_str(), tv)
                        : redisConnectWithTimeout(address.host.c_str(), address.port, tv);
  const std::string name = address.ToString();
  if (c == nullptr) return name + ": cannot allocate a redis context";
  if (c->err != 0) {
    std::string message = name + ": " + c->errstr;
    redisFree(c);
    return message;
  }
  return std::unique_ptr<Connection>(new Connection(c, name));
}

Connection::~Connection() {
  if (context_ != nullptr) redisFree(context_);
}

bool Connection::SetTimeout(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) return false;
  return redisSetTimeout(context_, ToTimeval(left + kDeadlineSlack)) == REDIS_OK;
}

std::string Connection::Failure(const std::string& what) {
  broken_ = true;
  std::string cause = context_->err != 0 ? context_->errstr : "deadline reached";
  // hiredis reports a read that hit SO_RCVTIMEO as EAGAIN's text.
  if (cause.find("Resource temporarily unavailable") != std::string::npos) {
    cause = "no reply before the deadline (timeout)";
  }
  return name_ + ": " + what + ": " + cause;
}

Status Connection::Exchange(Pipeline& pipeline, Clock::time_point deadline) {
  if (broken_) return Status::Error(name_ + ": connection is broken");
  const std::vector<Command>& commands = pipeline.commands();
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  for (const Command& command : commands) {
    argv.clear();
    lens.clear();
    for (const std::string& arg : command) {
      argv.push_back(arg.data());
      lens.push_back(arg.size());
    }
    if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(), lens.data()) !=
        REDIS_OK) {
      return Status::Error(Failure("cannot queue " + command.front()));
    }
  }
  std::vector<Reply> replies;
  replies.reserve(commands.size());
  for (const Command& command : commands) {
    if (!SetTimeout(deadline)) return Status::Error(Failure(command.front()));
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
      return Status::Error(Failure(command.front()));
    }
    replies.push_back(ConvertReply(*static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  pipeline.Deliver(std::move(replies));  // one per command, as read
  return Status::Ok();
}

Expected<Reply, std::string> Connection::Run(const Command& command, Clock::time_point deadline) {
  Pipeline pipeline;
  const Pipeline::Slot slot = pipeline.Add(command);
  if (Status s = Exchange(pipeline, deadline); !s.ok()) return s.message();
  return pipeline[slot];
}

}  // namespace tacho::collectors::redis

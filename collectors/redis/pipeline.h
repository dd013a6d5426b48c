// Commands sent to the server together, and their replies matched to them by construction:
// Add() returns the command's Slot, and after the exchange the reply is read through that slot.
// A command added conditionally, or in another order, cannot shift another command's reply.
// Free of hiredis (Connection::Exchange sends it). Not thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "collectors/redis/replies.h"

namespace tacho::collectors::redis {

using Command = std::vector<std::string>;

class Pipeline {
 public:
  // Where one command's reply lands. Only the Pipeline that returned it may read it.
  class Slot {
   private:
    friend class Pipeline;
    Slot(const Pipeline* owner, std::size_t index) : owner_(owner), index_(index) {}
    const Pipeline* owner_;
    std::size_t index_;
  };

  Pipeline() = default;
  Pipeline(const Pipeline&) = delete;  // slots point at their pipeline
  Pipeline& operator=(const Pipeline&) = delete;

  Slot Add(Command command);
  // Adds the command only when `condition` holds; read its reply with Find().
  std::optional<Slot> AddIf(bool condition, Command command);

  bool empty() const { return commands_.empty(); }
  const std::vector<Command>& commands() const { return commands_; }

  // Hands over the server's replies, one per command in the order they were added (the order
  // RESP answers a pipeline in). False, keeping none, when their number differs.
  bool Deliver(std::vector<Reply> replies);
  bool delivered() const { return delivered_; }

  // The reply to the command `slot` was returned for. Throws std::logic_error for a slot of
  // another pipeline or before Deliver(): a programming error, which the collector reports as a
  // failed collection.
  const Reply& operator[](Slot slot) const;
  // The reply to a command added with AddIf(), or nullptr when it was not added.
  const Reply* Find(const std::optional<Slot>& slot) const {
    return slot ? &(*this)[*slot] : nullptr;
  }

 private:
  std::vector<Command> commands_;
  std::vector<Reply> replies_;
  bool delivered_ = false;
};

}  // namespace tacho::collectors::redis

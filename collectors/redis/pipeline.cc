#include "collectors/redis/pipeline.h"

#include <stdexcept>

namespace tacho::collectors::redis {

Pipeline::Slot Pipeline::Add(Command command) {
  if (delivered_) throw std::logic_error("redis pipeline: command added after its replies");
  commands_.push_back(std::move(command));
  return Slot(this, commands_.size() - 1);
}

std::optional<Pipeline::Slot> Pipeline::AddIf(bool condition, Command command) {
  if (!condition) return std::nullopt;
  return Add(std::move(command));
}

bool Pipeline::Deliver(std::vector<Reply> replies) {
  if (replies.size() != commands_.size()) return false;
  replies_ = std::move(replies);
  delivered_ = true;
  return true;
}

const Reply& Pipeline::operator[](Slot slot) const {
  if (slot.owner_ != this) throw std::logic_error("redis pipeline: slot of another pipeline");
  if (!delivered_) throw std::logic_error("redis pipeline: reply read before the exchange");
  return replies_[slot.index_];
}

}  // namespace tacho::collectors::redis

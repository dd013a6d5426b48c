#include "collectors/postgres/query_text.h"

#include "base/text.h"

namespace tacho::collectors::postgres {
namespace {

bool IsSpace(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

}  // namespace

std::string NormalizeQueryText(std::string_view text, std::size_t max_chars) {
  std::string out;
  out.reserve(std::min(text.size(), max_chars * 4));
  std::size_t chars = 0;
  bool pending_space = false;
  for (std::size_t i = 0; i < text.size() && chars < max_chars;) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (IsSpace(c)) {
      pending_space = !out.empty();
      ++i;
      continue;
    }
    if (pending_space) {
      out += ' ';
      pending_space = false;
      if (++chars >= max_chars) break;
    }
    const std::size_t len = base::Utf8SequenceLength(text, i);
    if (len == 0) {
      out += '?';
      ++i;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
    ++chars;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::optional<std::string> QueryTextCache::Get(std::int64_t queryid) {
  auto it = index_.find(queryid);
  if (it == index_.end()) return std::nullopt;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->second;
}

void QueryTextCache::Put(std::int64_t queryid, std::string text) {
  auto it = index_.find(queryid);
  if (it != index_.end()) {
    it->second->second = std::move(text);
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  order_.emplace_front(queryid, std::move(text));
  index_[queryid] = order_.begin();
  while (index_.size() > capacity_) {
    index_.erase(order_.back().first);
    order_.pop_back();
  }
}

}  // namespace tacho::collectors::postgres

#include "collectors/redis/replies.h"

#include <algorithm>
#include <cctype>

namespace tacho::collectors::redis {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Integers may arrive as integer replies or (from proxies) as strings.
bool AsInt(const Reply& r, long long& out) {
  if (r.type == Reply::Type::kInteger) {
    out = r.integer;
    return true;
  }
  if (r.is_text() && !r.str.empty()) {
    try {
      std::size_t used = 0;
      out = std::stoll(r.str, &used);
      return used == r.str.size();
    } catch (...) {
      return false;
    }
  }
  return false;
}

}  // namespace

std::string_view ErrorCode(std::string_view error) {
  std::size_t space = error.find(' ');
  return error.substr(0, space);
}

std::vector<CommandHistogram> ParseLatencyHistogram(const Reply& reply) {
  std::vector<CommandHistogram> out;
  if (reply.type != Reply::Type::kArray) return out;
  const auto& e = reply.elements;
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
    if (!e[i].is_text() || e[i + 1].type != Reply::Type::kArray) continue;
    CommandHistogram h;
    h.command = Lower(e[i].str);
    bool has_calls = false;
    const auto& fields = e[i + 1].elements;
    for (std::size_t f = 0; f + 1 < fields.size(); f += 2) {
      if (!fields[f].is_text()) continue;
      if (fields[f].str == "calls") {
        long long calls = 0;
        if (AsInt(fields[f + 1], calls) && calls >= 0) {
          h.calls = static_cast<std::uint64_t>(calls);
          has_calls = true;
        }
      } else if (fields[f].str == "histogram_usec" && fields[f + 1].type == Reply::Type::kArray) {
        const auto& b = fields[f + 1].elements;
        for (std::size_t j = 0; j + 1 < b.size(); j += 2) {
          long long bound = 0;
          long long count = 0;
          if (AsInt(b[j], bound) && AsInt(b[j + 1], count) && bound >= 0 && count >= 0) {
            h.buckets.emplace_back(static_cast<std::uint64_t>(bound),
                                   static_cast<std::uint64_t>(count));
          }
        }
        std::sort(h.buckets.begin(), h.buckets.end());
      }
    }
    if (has_calls) out.push_back(std::move(h));
  }
  return out;
}

std::vector<SlowlogEntry> ParseSlowlog(const Reply& reply,
                                       const std::function<bool(std::string_view)>& is_command) {
  std::vector<SlowlogEntry> out;
  if (reply.type != Reply::Type::kArray) return out;
  for (const Reply& item : reply.elements) {
    // Redis 4.0+ has 6 fields (client address and name added); older ones 4.
    if (item.type != Reply::Type::kArray || item.elements.size() < 4) continue;
    const auto& f = item.elements;
    SlowlogEntry entry;
    long long v = 0;
    if (!AsInt(f[0], v)) continue;
    entry.id = v;
    if (AsInt(f[1], v)) entry.timestamp = v;
    if (!AsInt(f[2], v)) continue;
    entry.duration_us = v;
    const Reply& args = f[3];
    std::string name;
    if (args.type == Reply::Type::kArray && !args.elements.empty() && args.elements[0].is_text()) {
      name = Lower(args.elements[0].str);
      if (args.elements.size() > 1 && args.elements[1].is_text()) {
        std::string sub = name + "|" + Lower(args.elements[1].str);
        if (is_command(sub)) name = std::move(sub);
      }
    }
    entry.command = (!name.empty() && is_command(name)) ? std::move(name) : "other";
    out.push_back(std::move(entry));
  }
  return out;
}

std::map<std::string, std::string> ParseConfigGet(const Reply& reply) {
  std::map<std::string, std::string> out;
  if (reply.type != Reply::Type::kArray) return out;
  const auto& e = reply.elements;
  for (std::size_t i = 0; i + 1 < e.size(); i += 2) {
    if (e[i].is_text() && e[i + 1].is_text()) out[Lower(e[i].str)] = e[i + 1].str;
  }
  return out;
}

}  // namespace tacho::collectors::redis

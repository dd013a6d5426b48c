#include "collectors/redis/client_list.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace tacho::collectors::redis {
namespace {

std::int64_t ToInt(std::string_view s) {
  std::int64_t v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

}  // namespace

std::vector<ClientInfo> ParseClientList(std::string_view text) {
  std::vector<ClientInfo> out;
  while (!text.empty()) {
    std::size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

    ClientInfo client;
    bool has_id = false;
    while (!line.empty()) {
      std::size_t space = line.find(' ');
      std::string_view field = line.substr(0, space);
      line.remove_prefix(space == std::string_view::npos ? line.size() : space + 1);
      std::size_t eq = field.find('=');
      if (eq == std::string_view::npos) continue;
      std::string_view key = field.substr(0, eq);
      std::string_view value = field.substr(eq + 1);
      if (key == "id") {
        has_id = true;
      } else if (key == "name") {
        client.name = std::string(value);
      } else if (key == "age") {
        client.age_seconds = ToInt(value);
      } else if (key == "idle") {
        client.idle_seconds = ToInt(value);
      } else if (key == "flags") {
        client.flags = std::string(value);
      }
    }
    if (has_id) out.push_back(std::move(client));
  }
  return out;
}

ClientPools GroupClientPools(const std::vector<ClientInfo>& clients, std::size_t max_pools) {
  std::map<std::string, ClientPool> by_name;
  for (const ClientInfo& c : clients) {
    auto [it, inserted] = by_name.try_emplace(c.name);
    ClientPool& p = it->second;
    if (inserted) {
      p.name = c.name;
      p.min_age_seconds = c.age_seconds;
    }
    const bool blocked = c.flags.find('b') != std::string::npos;
    ++p.connections;
    if (blocked) ++p.blocked;
    if (blocked || c.idle_seconds == 0) ++p.active;
    p.max_idle_seconds = std::max(p.max_idle_seconds, c.idle_seconds);
    p.min_age_seconds = std::min(p.min_age_seconds, c.age_seconds);
  }
  ClientPools out;
  out.pools.reserve(by_name.size());
  for (auto& [name, pool] : by_name) out.pools.push_back(std::move(pool));
  if (out.pools.size() > max_pools) {
    std::stable_sort(
        out.pools.begin(), out.pools.end(),
        [](const ClientPool& a, const ClientPool& b) { return a.connections > b.connections; });
    out.dropped = out.pools.size() - max_pools;
    out.pools.resize(max_pools);
    std::sort(out.pools.begin(), out.pools.end(),
              [](const ClientPool& a, const ClientPool& b) { return a.name < b.name; });
  }
  return out;
}

agent::PoolSample ClientPoolSample(const ClientPool& p) {
  agent::PoolSample pool("redis", "client/" + p.name);
  pool.no_limit = agent::NoLimit::kUnknown;
  pool.in_use = static_cast<double>(p.active);
  pool.idle = static_cast<double>(p.connections - p.active);
  pool.held = static_cast<double>(p.connections);
  pool.blocked = static_cast<double>(p.blocked);
  return pool;
}

}  // namespace tacho::collectors::redis

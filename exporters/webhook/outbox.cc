#include "exporters/webhook/outbox.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "base/file.h"

namespace tacho::webhook {

namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

// Each entry is a file "<created ms>-<id>.msg": one JSON line of metadata, then the body.
//   {"id":"msg_…","receiver":"oncall","created_ms":1700000000000}\n{"receiver":…}
constexpr const char* kSuffix = ".msg";

}  // namespace

std::string NewMessageId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char buf[40];
  std::snprintf(buf, sizeof buf, "msg_%016llx%016llx", static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return buf;
}

Status Outbox::Open(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::Error("cannot create " + dir + ": " + ec.message());
  if (::access(dir.c_str(), W_OK) != 0) {
    return Status::Error("cannot write to " + dir + ": " + std::strerror(errno));
  }
  // A crash between create and rename leaves a temporary file that no entry owns.
  if (int n = base::RemoveTemporaryFiles(dir); n > 0) {
    spdlog::info("outbox {}: removed {} temporary file(s) left by an interrupted write", dir, n);
  }
  dir_ = dir;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() <= std::strlen(kSuffix) || name[0] == '.' ||
        name.substr(name.size() - std::strlen(kSuffix)) != kSuffix) {
      continue;
    }
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string data = buffer.str();
    const auto nl = data.find('\n');
    boost::system::error_code jec;
    json::value meta = json::parse(data.substr(0, nl == std::string::npos ? 0 : nl), jec);
    if (nl == std::string::npos || jec || !meta.is_object() || !meta.as_object().contains("id") ||
        !meta.as_object().at("id").is_string()) {
      fs::rename(entry.path(), entry.path().string() + ".corrupt", ec);
      continue;
    }
    const json::object& o = meta.as_object();
    OutboxEntry e;
    e.id = std::string(o.at("id").as_string());
    if (auto r = o.find("receiver"); r != o.end() && r->value().is_string()) {
      e.receiver = std::string(r->value().as_string());
    }
    if (auto c = o.find("created_ms"); c != o.end() && c->value().is_int64()) {
      e.created_ms = c->value().as_int64();
    }
    e.body = data.substr(nl + 1);
    file_of_[e.id] = name;
    entries_[name] = std::move(e);
  }
  return Status::Ok();
}

Expected<std::string> Outbox::Add(const std::string& receiver, const std::string& body,
                                  std::int64_t now_ms) {
  OutboxEntry e;
  e.id = NewMessageId();
  e.receiver = receiver;
  e.created_ms = now_ms;
  e.body = body;
  char prefix[32];
  std::snprintf(prefix, sizeof prefix, "%016lld-", static_cast<long long>(now_ms));
  const std::string name = prefix + e.id + kSuffix;
  if (!dir_.empty()) {
    const std::string meta =
        json::serialize(json::object{{"id", e.id}, {"receiver", receiver}, {"created_ms", now_ms}});
    if (Status s = base::WriteFileAtomically(dir_ + "/" + name, meta + "\n" + body); !s.ok()) {
      return s;
    }
  }
  const std::string id = e.id;
  file_of_[id] = name;
  entries_[name] = std::move(e);
  return id;
}

void Outbox::Remove(const std::string& id) {
  auto it = file_of_.find(id);
  if (it == file_of_.end()) return;
  if (!dir_.empty()) {
    std::error_code ec;
    fs::remove(fs::path(dir_) / it->second, ec);
  }
  entries_.erase(it->second);
  file_of_.erase(it);
}

std::vector<OutboxEntry*> Outbox::Pending(const std::string& receiver) {
  std::vector<OutboxEntry*> out;
  for (auto& [name, e] : entries_) {
    if (e.receiver == receiver) out.push_back(&e);
  }
  return out;
}

std::vector<OutboxEntry*> Outbox::All() {
  std::vector<OutboxEntry*> out;
  for (auto& [name, e] : entries_) out.push_back(&e);
  return out;
}

OutboxEntry* Outbox::Find(const std::string& id) {
  auto it = file_of_.find(id);
  return it == file_of_.end() ? nullptr : &entries_[it->second];
}

}  // namespace tacho::webhook

// The durable outbox: every notification is written (and fsynced) to a file under
// <state_dir>/outbox/ before its first delivery attempt and removed only once it was delivered
// or given up on, so a crash or restart loses nothing and a redelivery carries the same id.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace tacho::webhook {

struct OutboxEntry {
  std::string id;               // webhook-id: "msg_<32 hex>", stable across retries and restarts
  std::string receiver;         // the [[alerts.webhook]] name
  std::int64_t created_ms = 0;  // Unix ms it was queued
  std::string body;
  // In memory only: a restart retries at once.
  int attempts = 0;
  std::int64_t next_attempt_ms = 0;
};

// Thread-compatible (the agent's event loop only). Without a directory (empty or unwritable
// state_dir) it keeps entries in memory and says so in durable().
class Outbox {
 public:
  // Creates the directory if needed and loads the entries already there, oldest first.
  // A file that cannot be parsed is renamed to *.corrupt and skipped.
  Status Open(const std::string& dir);
  bool durable() const { return !dir_.empty(); }

  // Writes the entry (temporary file, fsync, rename, fsync of the directory) and keeps it.
  Expected<std::string> Add(const std::string& receiver, const std::string& body,
                            std::int64_t now_ms);
  void Remove(const std::string& id);

  // Entries by creation order (id order breaks ties).
  std::vector<OutboxEntry*> Pending(const std::string& receiver);
  // Every entry, whatever its receiver, by creation order.
  std::vector<OutboxEntry*> All();
  std::size_t size() const { return entries_.size(); }
  OutboxEntry* Find(const std::string& id);

 private:
  std::string dir_;
  std::map<std::string, OutboxEntry> entries_;  // file name ("<created>-<id>") -> entry
  std::map<std::string, std::string> file_of_;  // id -> file name
};

// "msg_" + 32 random hex digits.
std::string NewMessageId();

}  // namespace tacho::webhook

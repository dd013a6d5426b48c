#include "agent/snapshot.h"

#include <prometheus/text_serializer.h>

#include <sstream>

#include "agent/pool_model.h"

namespace tacho::agent {

std::vector<RenderedFamily> RenderFamilies(const std::vector<prometheus::MetricFamily>& families) {
  // Serialise everything once, then split the text into families: each family's block starts
  // with its "# HELP" line (omitted by TextSerializer when help is empty) and "# TYPE" line;
  // sample lines never start with '#'. The text is read in place and each family's header and
  // body copied once at their exact size: a snapshot lives for a whole interval, so neither a
  // second copy of the text nor the slack of strings grown line by line should live with it.
  std::ostringstream stream;
  prometheus::TextSerializer().Serialize(stream, families);
  const std::string_view text = stream.view();

  struct Block {
    std::size_t begin = 0;       // first header line
    std::size_t body_begin = 0;  // first sample line
    std::size_t end = 0;
  };
  std::vector<Block> blocks;
  blocks.reserve(families.size());
  std::size_t pos = 0;
  bool previous_was_help = false;
  while (pos < text.size()) {
    std::size_t eol = text.find('\n', pos);
    eol = eol == std::string_view::npos ? text.size() : eol + 1;
    const std::string_view line = text.substr(pos, eol - pos);
    const bool is_help = line.starts_with("# HELP ");
    const bool is_type = line.starts_with("# TYPE ");
    if (is_help || (is_type && !previous_was_help)) blocks.push_back({pos, pos, pos});
    if (!blocks.empty()) {
      Block& b = blocks.back();
      if (is_help || is_type) b.body_begin = eol;
      b.end = eol;
    }
    previous_was_help = is_help;
    pos = eol;
  }

  std::vector<RenderedFamily> out;
  out.reserve(blocks.size());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    const Block& b = blocks[i];
    if (b.end == b.body_begin) continue;  // a family without samples
    RenderedFamily rendered;
    if (i < families.size()) {
      rendered.name = families[i].name;
      rendered.type = families[i].type;
    }
    rendered.header = std::string(text.substr(b.begin, b.body_begin - b.begin));
    rendered.body = std::string(text.substr(b.body_begin, b.end - b.body_begin));
    out.push_back(std::move(rendered));
  }
  return out;
}

namespace {

bool Kept(const std::set<std::string>& names, const std::string& family) {
  if (family.rfind(kPoolFamilyPrefix, 0) == 0) return true;
  for (const char* suffix : {"", "_bucket", "_sum", "_count"}) {
    if (names.count(family + suffix) != 0) return true;
  }
  return false;
}

}  // namespace

std::shared_ptr<const Snapshot> MakeSnapshot(std::vector<prometheus::MetricFamily> families,
                                             std::chrono::system_clock::time_point taken_at,
                                             const KeptNames& kept) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->rendered = RenderFamilies(families);
  for (const auto& f : families) snapshot->series += f.metric.size();
  // Most families are only ever served as text: keeping their samples too would double the
  // memory of every snapshot (about 600 bytes a series).
  if (kept) {
    std::erase_if(families,
                  [&kept](const prometheus::MetricFamily& f) { return !Kept(*kept, f.name); });
    families.shrink_to_fit();
  }
  snapshot->families = std::move(families);
  snapshot->taken_at = taken_at;
  return snapshot;
}

void SnapshotStore::Publish(const std::string& instance, std::shared_ptr<const Snapshot> snapshot) {
  std::lock_guard lock(mutex_);
  snapshots_[instance] = std::move(snapshot);
}

void SnapshotStore::Remove(const std::string& instance) {
  std::lock_guard lock(mutex_);
  snapshots_.erase(instance);
}

void SnapshotStore::SetKeptNames(KeptNames names) {
  std::lock_guard lock(mutex_);
  kept_names_ = std::move(names);
}

KeptNames SnapshotStore::kept_names() const {
  std::lock_guard lock(mutex_);
  return kept_names_;
}

std::map<std::string, std::shared_ptr<const Snapshot>> SnapshotStore::All() const {
  std::lock_guard lock(mutex_);
  return snapshots_;
}

}  // namespace tacho::agent

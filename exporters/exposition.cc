#include "exporters/exposition.h"

#include <algorithm>

namespace tacho::exporters {

std::string MergeExposition(const std::vector<const std::vector<agent::RenderedFamily>*>& parts,
                            std::size_t* type_conflicts) {
  std::vector<const agent::RenderedFamily*> all;
  std::size_t bytes = 0;
  for (const auto* part : parts) {
    for (const auto& family : *part) {
      all.push_back(&family);
      bytes += family.header.size() + family.body.size();
    }
  }
  // Stable: among equal names, parts keep their given order, so the first part's header wins.
  std::stable_sort(all.begin(), all.end(),
                   [](const auto* a, const auto* b) { return a->name < b->name; });
  std::string out;
  out.reserve(bytes);
  std::size_t conflicts = 0;
  for (std::size_t i = 0; i < all.size();) {
    const agent::RenderedFamily* first = all[i];
    out += first->header;
    for (; i < all.size() && all[i]->name == first->name; ++i) {
      if (all[i]->type != first->type) {
        ++conflicts;
        continue;
      }
      out += all[i]->body;
    }
  }
  if (type_conflicts != nullptr) *type_conflicts = conflicts;
  return out;
}

}  // namespace tacho::exporters

#include "config/binding.h"

#include <set>

namespace tacho::config {

std::optional<std::string> CheckBinding(const Schema& schema, const std::vector<BoundKey>& keys) {
  std::set<std::string> bound;
  for (const BoundKey& key : keys) {
    if (!bound.insert(key.name).second) return "binds key '" + key.name + "' twice";
    const KeySpec* spec = nullptr;
    for (const KeySpec& s : schema) {
      if (s.name == key.name) spec = &s;
    }
    if (spec == nullptr) {
      std::vector<std::string> names;
      for (const KeySpec& s : schema) names.push_back(s.name);
      std::string message = "binds key '" + key.name + "', which its schema does not declare";
      std::string suggestion = Suggest(key.name, names);
      if (!suggestion.empty()) message += "; did you mean '" + suggestion + "'?";
      return message;
    }
    if (key.type && *key.type != spec->type) {
      return "binds key '" + key.name + "' to a member holding " + TypeName(*key.type) +
             ", but the schema declares " + TypeName(spec->type);
    }
    if (spec->type == Type::kTableList) {
      if (auto problem = CheckBinding(spec->fields, key.fields)) {
        return "in the elements of '" + key.name + "': " + *problem;
      }
    }
  }
  for (const KeySpec& spec : schema) {
    if (bound.count(spec.name) == 0) {
      return "declares key '" + spec.name +
             "' but neither binds it to a member nor marks it ReadByCode";
    }
  }
  return std::nullopt;
}

}  // namespace tacho::config

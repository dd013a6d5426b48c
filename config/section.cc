#include <stdexcept>
#include <string>

#include "config/config.h"

namespace tacho::config {

std::string Error::ToString() const {
  if (position.file.empty()) return message;
  if (position.line == 0) return position.file + ": " + message;
  return position.file + ":" + std::to_string(position.line) + ":" +
         std::to_string(position.column) + ": " + message;
}

void Section::Set(std::string key, Value value, Position position, bool explicitly_set) {
  entries_[std::move(key)] = Entry{std::move(value), std::move(position), explicitly_set};
}

const Section::Entry& Section::Find(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    throw std::logic_error("config key '" + std::string(key) + "' was not declared");
  }
  return it->second;
}

bool Section::Has(std::string_view key) const {
  auto it = entries_.find(key);
  return it != entries_.end() && !std::holds_alternative<std::monostate>(it->second.value);
}

namespace {

template <class T>
const T& GetAs(const Section::Value& value, std::string_view key) {
  if (const T* v = std::get_if<T>(&value)) return *v;
  if (std::holds_alternative<std::monostate>(value)) {
    static const T kEmpty{};
    return kEmpty;
  }
  throw std::logic_error("config key '" + std::string(key) + "' read as the wrong type");
}

}  // namespace

const std::string& Section::GetString(std::string_view key) const {
  return GetAs<std::string>(Find(key).value, key);
}
std::int64_t Section::GetInt(std::string_view key) const {
  return GetAs<std::int64_t>(Find(key).value, key);
}
double Section::GetFloat(std::string_view key) const { return GetAs<double>(Find(key).value, key); }
bool Section::GetBool(std::string_view key) const { return GetAs<bool>(Find(key).value, key); }
Duration Section::GetDuration(std::string_view key) const {
  return GetAs<Duration>(Find(key).value, key);
}
const std::vector<std::string>& Section::GetStringList(std::string_view key) const {
  return GetAs<std::vector<std::string>>(Find(key).value, key);
}
const StringMap& Section::GetStringMap(std::string_view key) const {
  return GetAs<StringMap>(Find(key).value, key);
}
const std::vector<Section>& Section::GetTableList(std::string_view key) const {
  return GetAs<std::vector<Section>>(Find(key).value, key);
}

Position Section::PositionOf(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end() || !it->second.explicitly_set) return position_;
  return it->second.position;
}

Error Section::ErrorAt(std::string_view key, std::string message) const {
  return Error{PositionOf(key), std::move(message)};
}

const char* TypeName(Type type) {
  switch (type) {
    case Type::kString:
      return "a string";
    case Type::kInt:
      return "an integer";
    case Type::kFloat:
      return "a number";
    case Type::kBool:
      return "a boolean";
    case Type::kDuration:
      return "a duration string such as \"15s\"";
    case Type::kStringList:
      return "an array of strings";
    case Type::kStringMap:
      return "a table of strings";
    case Type::kTableList:
      return "an array of tables";
  }
  return "a value";
}

}  // namespace tacho::config

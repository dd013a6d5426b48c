// The sample configuration and the README key tables, derived from the same declarations the
// loader validates against.
#include <cmath>
#include <cstdint>
#include <sstream>

#include "config/config.h"

namespace tacho::config {

namespace {

// Wraps a description into "## " comment lines of at most ~96 columns.
void WriteDescription(std::ostringstream& out, const std::string& indent, const std::string& text) {
  std::istringstream words(text);
  std::string word, line;
  while (words >> word) {
    if (!line.empty() && line.size() + word.size() + 1 > 90) {
      out << indent << "## " << line << "\n";
      line.clear();
    }
    line += (line.empty() ? "" : " ") + word;
  }
  if (!line.empty()) out << indent << "## " << line << "\n";
}

std::string ValueText(const KeySpec& spec) {
  if (!spec.default_value.empty()) return spec.default_value;
  if (!spec.example.empty()) return spec.example;
  switch (spec.type) {
    case Type::kInt:
      return "0";
    case Type::kFloat:
      return "0.0";
    case Type::kBool:
      return "false";
    case Type::kDuration:
      return "\"15s\"";
    case Type::kStringList:
      return "[]";
    case Type::kStringMap:
      return "{}";
    default:
      return "\"\"";
  }
}

// The description with what the declaration adds to it: the accepted values and the secret
// forms, their names wrapped by `code` (plain in TOML comments, backquoted in Markdown), and
// "Required." when `mark_required`.
std::string FullDescription(const KeySpec& spec, const std::string& code, bool mark_required) {
  std::string description = spec.description;
  if (mark_required && spec.required) description += " Required.";
  if (!spec.allowed.empty()) {
    std::string list;
    for (const auto& a : spec.allowed) list += (list.empty() ? "" : ", ") + code + a + code;
    description += " One of: " + list + ".";
  }
  if (spec.secret) {
    description += " Also as " + code + spec.name + "_file" + code + " (a file holding it) or " +
                   code + spec.name + "_env" + code + " (an environment variable holding it).";
  }
  if (description.starts_with(' ')) description.erase(0, 1);
  return description;
}

enum class Style {
  kCommented,  // every key line starts with "# ": an example to uncomment
  kLoadable,   // required keys and keys with defaults set; table lists with their examples
};

// Required keys and keys with defaults are shown as values (commented in kCommented); optional
// keys without a default are always commented. A table list is shown as a commented reference
// element listing its fields, followed in kLoadable by its declared examples.
void WriteKeys(std::ostringstream& out, const Schema& schema, const std::string& indent,
               const std::string& path, Style style) {
  const std::string prefix = style == Style::kCommented ? "# " : "";
  for (const KeySpec& spec : schema) {
    if (spec.type == Type::kTableList) continue;
    out << "\n";
    WriteDescription(out, prefix + indent, FullDescription(spec, "", true));
    const bool show = spec.required || !spec.default_value.empty();
    // A key left unset is commented after the indent in kLoadable, so it lines up with its
    // neighbours; in kCommented every line starts with "# ".
    const std::string lead = style == Style::kCommented ? "# " + indent
                             : show                     ? indent
                                                        : indent + "# ";
    out << lead << spec.name << " = " << ValueText(spec) << "\n";
  }
  for (const KeySpec& spec : schema) {
    if (spec.type != Type::kTableList) continue;
    const std::string table = "[[" + path + "." + spec.name + "]]";
    out << "\n";
    WriteDescription(out, prefix + indent, spec.description);
    out << "# " << indent << table << "\n";
    WriteKeys(out, spec.fields, indent + "  ", path + "." + spec.name, Style::kCommented);
    if (style != Style::kLoadable) continue;
    for (const TableExample& example : spec.examples) {
      const std::string example_prefix = example.commented ? "# " : "";
      out << "\n";
      WriteDescription(out, indent, example.description);
      out << example_prefix << indent << table << "\n";
      for (const std::string& line : example.lines) {
        out << example_prefix << indent << "  " << line << "\n";
      }
    }
  }
}

std::string KindSample(const SampleKind& kind, Style style) {
  std::ostringstream out;
  WriteDescription(out, "", kind.name + ": " + kind.description);
  Schema common = CommonCollectorSchema();
  if (style == Style::kLoadable) {
    // Instance names are unique across a file: a sample of several kinds names each after it.
    for (KeySpec& spec : common) {
      if (spec.name == "name") spec.example = "\"" + kind.name + "\"";
    }
  }
  out << (style == Style::kCommented ? "# " : "") << "[[collectors." << kind.name << "]]\n";
  WriteKeys(out, common, "  ", "collectors." + kind.name, style);
  WriteKeys(out, *kind.schema, "  ", "collectors." + kind.name, style);
  return out.str();
}

const char* ShortTypeName(Type type) {
  switch (type) {
    case Type::kString:
      return "string";
    case Type::kInt:
      return "integer";
    case Type::kFloat:
      return "number";
    case Type::kBool:
      return "boolean";
    case Type::kDuration:
      return "duration";
    case Type::kStringList:
      return "list of strings";
    case Type::kStringMap:
      return "table of strings";
    case Type::kTableList:
      return "array of tables";
  }
  return "value";
}

std::string FormatBound(double v) {
  if (v == std::floor(v)) return std::to_string(static_cast<std::int64_t>(v));
  std::ostringstream out;
  out << v;
  return out.str();
}

// Text for a Markdown table cell: no cell breaks, no HTML tags, no emphasis.
std::string MarkdownCell(const std::string& text) {
  std::string out;
  bool in_code = false;
  for (char c : text) {
    if (c == '`') in_code = !in_code;
    if (c == '|') {
      out += "\\|";
    } else if (!in_code && (c == '<' || c == '*')) {
      out += std::string("\\") + c;
    } else {
      out += c;
    }
  }
  return out;
}

void WriteReferenceRows(std::ostringstream& out, const Schema& schema, const std::string& prefix,
                        const std::string& path) {
  for (const KeySpec& spec : schema) {
    std::string type = ShortTypeName(spec.type);
    if (spec.min && spec.max) {
      type += " " + FormatBound(*spec.min) + "–" + FormatBound(*spec.max);
    } else if (spec.min) {
      type += " ≥ " + FormatBound(*spec.min);
    } else if (spec.max) {
      type += " ≤ " + FormatBound(*spec.max);
    }
    if (spec.secret) type += ", secret";
    const std::string fallback = spec.required ? "required" : "—";
    const std::string value =
        spec.default_value.empty() ? fallback : "`" + spec.default_value + "`";
    std::string description = FullDescription(spec, "`", false);
    if (spec.type == Type::kTableList) {
      description += " Each is a `[[" + path + "." + spec.name + "]]` table with the `" + prefix +
                     spec.name + ".` keys below.";
    }
    out << "| `" << prefix << spec.name << "` | " << type << " | " << value << " | "
        << MarkdownCell(description) << " |\n";
    if (spec.type == Type::kTableList) {
      WriteReferenceRows(out, spec.fields, prefix + spec.name + ".", path + "." + spec.name);
    }
  }
}

}  // namespace

std::string GenerateKindSample(const SampleKind& kind) {
  return KindSample(kind, Style::kCommented);
}

std::string GenerateFolderSample(const std::vector<SampleKind>& kinds) {
  std::string names;
  for (const SampleKind& kind : kinds) names += " " + kind.name;
  std::string out =
      "# Generated by `tacho --print-sample-config" + names +
      "` from the declarations the loader\n"
      "# validates against (the wording of config/tacho.example.toml); a test fails if this file\n"
      "# differs. It loads as is. Lines starting with '#' are examples: uncomment and edit them.\n";
  for (const SampleKind& kind : kinds) out += "\n" + KindSample(kind, Style::kLoadable);
  return out;
}

std::string GenerateConfigReference(const SampleKind& kind) {
  const std::string path = "collectors." + kind.name;
  std::ostringstream out;
  out << "<!-- BEGIN GENERATED CONFIG: " << kind.name << " -->\n"
      << "Keys of `[[" << path << "]]`, generated by `tacho --print-config-reference " << kind.name
      << "` from the declarations the loader validates against.\n\n"
      << "| key | type | default | description |\n"
      << "|---|---|---|---|\n";
  WriteReferenceRows(out, CommonCollectorSchema(), "", path);
  WriteReferenceRows(out, *kind.schema, "", path);
  out << "<!-- END GENERATED CONFIG -->\n";
  return out.str();
}

std::string GenerateSample(const std::vector<SampleKind>& kinds,
                           const std::vector<SampleSection>& sections) {
  std::ostringstream out;
  out << "# tacho configuration (TOML).\n"
         "# Generated by `tacho --print-sample-config` from the same declarations the loader\n"
         "# validates against, so every key, default and description here is current.\n"
         "# Durations are strings: \"250ms\", \"15s\", \"5m\", \"1h\".\n"
         "# Lines starting with '#' are examples: uncomment and edit them.\n\n"
         "[agent]";
  WriteKeys(out, AgentSchema(), "", "agent", Style::kLoadable);
  for (const SampleKind& kind : kinds) {
    out << "\n\n";
    out << GenerateKindSample(kind);
  }
  for (const SampleSection& section : sections) {
    Schema scalars, tables;
    for (const KeySpec& spec : *section.schema) {
      (spec.type == Type::kTableList ? tables : scalars).push_back(spec);
    }
    out << "\n\n";
    WriteDescription(out, "", section.description);
    out << "[" << section.name << "]";
    WriteKeys(out, scalars, "", section.name, Style::kLoadable);
    WriteKeys(out, tables, "", section.name, Style::kCommented);
  }
  return out.str();
}

}  // namespace tacho::config

#include "exporters/http/exposition.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace tacho::exporters {

bool AcceptsGzip(std::string_view accept_encoding) {
  std::size_t pos = 0;
  while (pos <= accept_encoding.size()) {
    std::size_t end = accept_encoding.find(',', pos);
    if (end == std::string_view::npos) end = accept_encoding.size();
    std::string item(accept_encoding.substr(pos, end - pos));
    std::erase_if(item, [](unsigned char c) { return std::isspace(c); });
    for (char& c : item) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const std::size_t semi = item.find(';');
    const std::string coding = item.substr(0, semi);
    if (coding == "gzip" || coding == "*") {
      if (semi == std::string::npos) return true;
      const std::string params = item.substr(semi + 1);
      if (params.rfind("q=", 0) != 0) return true;
      // q=0, q=0.0, q=0.00... refuse; any other weight accepts.
      return params.find_first_not_of("q=0.") != std::string::npos;
    }
    pos = end + 1;
  }
  return false;
}

std::string GzipCompress(std::string_view body) {
  z_stream stream{};
  // windowBits 15 + 16: a gzip wrapper rather than raw zlib.
  if (deflateInit2(&stream, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&stream, static_cast<uLong>(body.size())));
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(body.data()));
  stream.avail_in = static_cast<uInt>(body.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
  return out;
}

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

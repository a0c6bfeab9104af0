#include "postmortem/split.h"

#include "util/utf8.h"

namespace scribe {

std::vector<std::string> split_markdown(std::string_view md, std::size_t max_bytes) {
  std::vector<std::string> pieces;
  if (max_bytes == 0) max_bytes = 1;
  std::string current;
  auto flush = [&] {
    if (!current.empty()) pieces.push_back(std::move(current));
    current.clear();
  };
  // Sections first: each starts at a line beginning with "## ".
  std::vector<std::string_view> sections;
  std::size_t start = 0;
  for (std::size_t pos = 0; pos < md.size();) {
    const std::size_t eol = md.find('\n', pos);
    const std::size_t next = eol == std::string_view::npos ? md.size() : eol + 1;
    if (pos > start && md.substr(pos).starts_with("## ")) {
      sections.push_back(md.substr(start, pos - start));
      start = pos;
    }
    pos = next;
  }
  if (start < md.size()) sections.push_back(md.substr(start));

  for (std::string_view section : sections) {
    if (current.size() + section.size() <= max_bytes) {
      current += section;
      continue;
    }
    flush();
    if (section.size() <= max_bytes) {
      current = std::string(section);
      continue;
    }
    // A section too long for one piece: by lines, and a line too long by characters.
    for (std::size_t pos = 0; pos < section.size();) {
      const std::size_t eol = section.find('\n', pos);
      std::string_view line =
          section.substr(pos, (eol == std::string_view::npos ? section.size() : eol + 1) - pos);
      pos += line.size();
      while (!line.empty()) {
        if (current.size() + line.size() <= max_bytes) {
          current += line;
          break;
        }
        if (!current.empty()) {
          flush();
          continue;
        }
        std::size_t n = utf8_prefix(line, max_bytes);
        if (n == 0) n = max_bytes;  // not UTF-8 at all: cut anyway rather than loop
        pieces.emplace_back(line.substr(0, n));
        line.remove_prefix(n);
      }
    }
  }
  flush();
  return pieces;
}

}  // namespace scribe

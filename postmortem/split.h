// Cutting a Markdown document into pieces that each fit in one chat message: at
// section boundaries ("## ") where possible, else at line ends, and never inside a
// UTF-8 character. Joining the pieces gives the document back unchanged.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace scribe {

std::vector<std::string> split_markdown(std::string_view markdown, std::size_t max_bytes);

}  // namespace scribe

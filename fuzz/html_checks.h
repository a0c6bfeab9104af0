// What HTML made from user text may contain: only the tags Scribe's renderer makes (the
// page's own, and those cmark-gfm makes from Markdown structure), no event handler
// attributes and no script URLs, so no text a user typed ever became markup.
#pragma once

#include <string_view>

namespace scribe::fuzz {

// Aborts (see FUZZ_CHECK) at the first tag or attribute outside the allowlist. `source`
// is shown in the report.
void check_html(std::string_view html, std::string_view source);

}  // namespace scribe::fuzz

#include "adapters/slack/form.h"

#include <exception>

#include <boost/url/encoding_opts.hpp>
#include <boost/url/parse_query.hpp>

#include "util/utf8.h"

namespace scribe::slack {

FormResult parse_form(std::string_view body) {
  FormResult result;
  try {
    // Boost.URL 1.81's parse_query measures its input again with strlen, so it reads past
    // the end of a view that is not NUL-terminated right there (and takes in what follows).
    // Its own NUL-terminated copy keeps it inside the body.
    const std::string terminated(body);
    auto params = boost::urls::parse_query(terminated);
    if (!params) {
      result.error = "invalid percent-escape, or a character that must be percent-encoded";
      return result;
    }
    boost::urls::encoding_opts opts;
    opts.space_as_plus = true;
    Form form;
    for (const auto& param : *params) {
      std::string key = param.key.decode(opts);
      if (key.empty()) continue;
      std::string value = param.has_value ? param.value.decode(opts) : std::string();
      if (key.find('\0') != std::string::npos || value.find('\0') != std::string::npos) {
        result.error = "a decoded NUL character";
        return result;
      }
      if (!valid_utf8(key) || !valid_utf8(value)) {
        result.error = "text is not valid UTF-8";
        return result;
      }
      form.emplace(std::move(key), std::move(value));  // keeps the first on duplicates
    }
    result.form = std::move(form);
  } catch (const std::exception&) {
    // Only allocation can throw here; the caller still gets an answer, not an exception.
    result.form.reset();
    result.error = "out of memory while decoding";
  }
  return result;
}

std::string_view form_value(const Form& form, std::string_view key) {
  auto it = form.find(key);
  return it == form.end() ? std::string_view() : std::string_view(it->second);
}

}  // namespace scribe::slack

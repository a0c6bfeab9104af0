// Parsing of application/x-www-form-urlencoded bodies (Slack slash commands and the
// interactivity "payload=" wrapper). Keys and values are percent-decoded with '+' read as
// a space. Strict: a malformed escape, a character that must have been escaped, a decoded
// NUL or invalid UTF-8 rejects the whole body, so nothing half-understood reaches commands.
// Never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace scribe::slack {

// Decoded key -> decoded value. On a repeated key the first occurrence wins (Slack never
// repeats keys; keeping the first makes a smuggled trailing "&user_id=..." useless).
// A key without '=' maps to "". Pairs with an empty key are ignored.
//
// Every decoded key and value lives in one buffer, indexed by a vector sorted by key: a
// form is two allocations, however many fields (it is parsed for every slash command, and a
// map of strings was most of the parser's time). Iterates in key order, as (key, value)
// pairs of views into the form.
class Form {
 public:
  using Field = std::pair<std::string_view, std::string_view>;

  // The value of `key`, or nullopt when absent.
  std::optional<std::string_view> find(std::string_view key) const;
  bool contains(std::string_view key) const { return find(key).has_value(); }
  std::size_t size() const { return index_.size(); }
  bool empty() const { return index_.empty(); }

  class const_iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = Field;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = Field;

    const_iterator() = default;
    Field operator*() const { return form_->field(i_); }
    const_iterator& operator++() {
      ++i_;
      return *this;
    }
    const_iterator operator++(int) {
      const_iterator before = *this;
      ++i_;
      return before;
    }
    bool operator==(const const_iterator& other) const { return i_ == other.i_; }

   private:
    friend class Form;
    const_iterator(const Form* form, std::size_t i) : form_(form), i_(i) {}
    const Form* form_ = nullptr;
    std::size_t i_ = 0;
  };
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, index_.size()}; }

  friend bool operator==(const Form& a, const Form& b);

 private:
  friend struct FormBuilder;
  struct Entry {
    std::uint32_t key_begin = 0;
    std::uint32_t key_size = 0;
    std::uint32_t value_begin = 0;
    std::uint32_t value_size = 0;
  };
  std::string_view key_of(const Entry& e) const { return {text_.data() + e.key_begin, e.key_size}; }
  std::string_view value_of(const Entry& e) const {
    return {text_.data() + e.value_begin, e.value_size};
  }
  Field field(std::size_t i) const { return {key_of(index_[i]), value_of(index_[i])}; }

  std::string text_;          // the decoded keys and values, back to back
  std::vector<Entry> index_;  // sorted by key, one entry per key
};

struct FormResult {
  std::optional<Form> form;  // set on success
  std::string error;         // on failure: what is wrong, short, no prefix, safe to echo

  explicit operator bool() const { return form.has_value(); }
};

FormResult parse_form(std::string_view body);

// The value of `key`, or "" when absent.
std::string_view form_value(const Form& form, std::string_view key);

}  // namespace scribe::slack

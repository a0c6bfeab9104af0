// The configuration reference is made from the settings table itself: every setting has a
// description, names are unique, and each stated default is what Scribe starts with (the
// README's copy is compared with `scribe config --reference` by a ctest script).
#include <map>
#include <optional>
#include <set>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "bot/config.h"

namespace scribe {
namespace {

using testing::HasSubstr;

TEST(ConfigReference, EverySettingHasADescriptionAndUniqueNames) {
  const auto docs = setting_docs();
  ASSERT_GT(docs.size(), 50u);
  std::set<std::string> keys;
  std::set<std::string> envs;
  for (const SettingDoc& d : docs) {
    EXPECT_FALSE(d.description.empty()) << d.toml_key << " has no description";
    EXPECT_TRUE(d.env_name.starts_with("SCRIBE_")) << d.env_name;
    EXPECT_TRUE(keys.insert(d.toml_key).second) << d.toml_key << " twice";
    EXPECT_TRUE(envs.insert(d.env_name).second) << d.env_name << " twice";
  }
}

TEST(ConfigReference, ListsEverySettingInItsTable) {
  const std::string reference = configuration_reference();
  for (const SettingDoc& d : setting_docs()) {
    EXPECT_THAT(reference, HasSubstr(fmt::format("| `{}` | `{}` | ", d.toml_key, d.env_name)));
  }
  EXPECT_THAT(reference, HasSubstr("`[review]`"));
  EXPECT_THAT(reference, HasSubstr("`[close_gate]`"));
}

// A stated default, given explicitly, must leave the configuration as it was: otherwise
// the reference tells operators something the code does not do.
TEST(ConfigReference, EachStatedDefaultIsWhatScribeStartsWith) {
  const auto nothing = [](const char*) -> std::optional<std::string> { return std::nullopt; };
  const std::string baseline = describe(load_config(std::nullopt, nothing));
  int checked = 0;
  for (const SettingDoc& d : setting_docs()) {
    if (d.default_text.empty()) continue;
    const auto env = [&d](const char* name) -> std::optional<std::string> {
      if (d.env_name == name) return d.default_text;
      return std::nullopt;
    };
    Config config;
    ASSERT_NO_THROW(config = load_config(std::nullopt, env)) << d.env_name << "=" << d.default_text;
    EXPECT_EQ(describe(config), baseline) << d.env_name << "=" << d.default_text;
    ++checked;
  }
  EXPECT_GT(checked, 25);
}

}  // namespace
}  // namespace scribe

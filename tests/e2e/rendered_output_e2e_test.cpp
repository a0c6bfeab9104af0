// End-to-end: what users type is text in everything Scribe renders. Hostile texts go in
// through signed slash commands and Matrix transactions to the real `scribe serve`, and
// come out through the API (postmortem.md, .html, .json, the incident record) and the
// messages Scribe sends to Slack and Matrix: no link, image, script or raw HTML of theirs,
// the visible text of each field equal to what was stored, JSON valid and exact. A long
// incident's draft reaches chat shortened, with a pointer to the whole one.
#include <chrono>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "e2e/fixture.h"
#include "storage/store.h"
#include "support/hostile_texts.h"
#include "support/matrix_standin.h"
#include "support/visible_text.h"

namespace scribe {
namespace {

using ::testing::HasSubstr;
using namespace std::chrono_literals;
using testing::elements;
using testing::expected_block;
using testing::expected_cell;
using testing::hostile_utf8_texts;
using testing::json;
using testing::visible_text;

constexpr const char* kChannel = "C0HOSTILE";

// What Slack sends for text a user typed: it escapes & < > itself ("Escape channels,
// users, and links" is on, so the rest arrives as typed).
std::string as_slack_sends(const std::string& typed) {
  std::string out;
  for (const char c : typed) {
    if (c == '&') {
      out += "&amp;";
    } else if (c == '<') {
      out += "&lt;";
    } else if (c == '>') {
      out += "&gt;";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Tags Scribe never writes into a draft or a reply.
void expect_no_markup_of_users(const std::string& html) {
  for (const char* bad :
       {"<a ", "<a>", "<img", "<script", "raw HTML omitted", "<del>", "<blockquote>", "<pre>"}) {
    EXPECT_EQ(html.find(bad), std::string::npos) << "found " << bad;
  }
}

class RenderedOutputE2E : public testing::ScribeE2E {
 protected:
  void SetUp() override {
    // Over a hundred commands in one channel within a second: past its command rate, by
    // design of the test, not what it is about.
    env_["SCRIBE_CHANNEL_COMMANDS_PER_MINUTE"] = "off";
    ScribeE2E::SetUp();
  }
};

TEST_F(RenderedOutputE2E, HostileTextShowsExactlyAsStoredInEveryFormat) {
  slack_->command("/incident", as_slack_sends("start <script>x</script> [t](https://evil) #"),
                  kChannel);
  const std::vector<std::string> texts = hostile_utf8_texts();
  for (const std::string& typed : texts) {
    const json timeline = slack_->command("/timeline", as_slack_sends(typed), kChannel);
    EXPECT_EQ(timeline["response_type"], "in_channel") << typed << "\n" << timeline.dump();
    slack_->command("/incident", "lesson " + as_slack_sends(typed), kChannel);
    slack_->command("/action", as_slack_sends(typed), kChannel);
  }

  // The record as stored: valid JSON even where the text is not valid UTF-8.
  const HttpResult record_answer = api("/api/incidents/1");
  ASSERT_EQ(record_answer.status, 200) << record_answer.body;
  const json record = json::parse(record_answer.body);
  std::vector<std::string> events;
  for (const auto& e : record["timeline"]) {
    if (e["kind"] == "note") events.push_back(e["text"]);
  }
  std::vector<std::string> lessons;
  for (const auto& n : record["notes"]) lessons.push_back(n["text"]);
  std::vector<std::string> actions;
  for (const auto& a : record["actions"]) actions.push_back(a["text"]);
  ASSERT_EQ(events.size(), texts.size());
  ASSERT_EQ(lessons.size(), texts.size());
  // Most texts are stored exactly as typed (the grammar reads some as due dates or tags).
  std::size_t exact = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events[i] == texts[i]) ++exact;
  }
  EXPECT_GE(exact, texts.size() - 3);

  // postmortem.json: the same texts, exactly (it is data).
  const HttpResult json_answer = api("/api/incidents/1/postmortem.json");
  ASSERT_EQ(json_answer.status, 200) << json_answer.body;
  const json draft = json::parse(json_answer.body);
  std::vector<std::string> draft_events;
  for (const auto& row : draft["timeline"]) {
    if (row["kind"] == "note") draft_events.push_back(row["text"]);
  }
  EXPECT_EQ(draft_events, events);
  EXPECT_EQ(draft["incident"]["title"], "<script>x</script> [t](https://evil) #");

  // postmortem.md: no raw tag of theirs.
  const HttpResult md = api("/api/incidents/1/postmortem.md");
  ASSERT_EQ(md.status, 200);
  for (std::size_t at = md.body.find("<script"); at != std::string::npos;
       at = md.body.find("<script", at + 1)) {
    EXPECT_EQ(md.body[at - 1], '\\') << md.body.substr(at - 20, 60);
  }

  // postmortem.html: each field shows exactly the stored text.
  const HttpResult page = api("/api/incidents/1/postmortem.html");
  ASSERT_EQ(page.status, 200);
  const std::string& html = page.body;
  expect_no_markup_of_users(html);
  const std::vector<std::string> h1 = elements(html, "h1");
  ASSERT_EQ(h1.size(), 1u);
  EXPECT_EQ(visible_text(h1[0]), "Postmortem: INC-1 — <script>x</script> [t](https://evil) #");
  const std::vector<std::string> tables = elements(html, "tbody");
  ASSERT_EQ(tables.size(), 3u);  // key durations, timeline, actions
  std::vector<std::string> shown_events;
  for (const std::string& row : elements(tables[1], "tr")) {
    const std::vector<std::string> cells = elements(row, "td");
    ASSERT_EQ(cells.size(), 6u) << row;
    if (visible_text(cells[4]).empty()) shown_events.push_back(visible_text(cells[5]));
  }
  ASSERT_EQ(shown_events.size(), events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(shown_events[i], expected_cell(events[i])) << i;
  }
  const std::vector<std::string> action_rows = elements(tables[2], "tr");
  ASSERT_EQ(action_rows.size(), actions.size());
  for (std::size_t i = 0; i < actions.size(); ++i) {
    const std::vector<std::string> cells = elements(action_rows[i], "td");
    ASSERT_EQ(cells.size(), 6u);
    EXPECT_EQ(visible_text(cells[1]), expected_cell(actions[i])) << i;
  }
  const std::size_t lessons_at = html.find("<h2>Lessons learned</h2>");
  ASSERT_NE(lessons_at, std::string::npos);
  const std::string lessons_html =
      html.substr(lessons_at, html.find("<h2>", lessons_at + 1) - lessons_at);
  const std::vector<std::string> items = elements(lessons_html, "li");
  ASSERT_EQ(items.size(), lessons.size());
  for (std::size_t i = 0; i < lessons.size(); ++i) {
    EXPECT_EQ(visible_text(items[i]), expected_block(lessons[i])) << i;
  }
}

TEST_F(RenderedOutputE2E, DropReasonsAndTheAuditTrailShowHostileTextAsTyped) {
  slack_->command("/incident", "start Hostile action items", kChannel);
  slack_->command("/action", "First item", kChannel);
  slack_->command("/action", "Second item", kChannel);
  const std::string reason = "<script>alert(1)</script> [click](javascript:alert(1)) **b**";
  const std::string edited = "![x](https://evil/x.png) | pipe | `code` <img src=x> \xE2\x80\xAE";
  json r = slack_->command("/action", "drop 1 " + as_slack_sends(reason), kChannel);
  ASSERT_EQ(r["response_type"], "in_channel") << r.dump();
  r = slack_->command("/action", "edit 2 " + as_slack_sends(edited), kChannel);
  ASSERT_EQ(r["response_type"], "in_channel") << r.dump();

  const HttpResult record_answer = api("/api/incidents/1");
  ASSERT_EQ(record_answer.status, 200) << record_answer.body;
  const json record = json::parse(record_answer.body);
  EXPECT_EQ(record["actions"][0]["drop_reason"], reason) << "stored exactly as typed";
  const json& revisions = record["action_revisions"];
  ASSERT_EQ(revisions.size(), 2u) << revisions.dump();
  EXPECT_EQ(revisions[1]["after"], edited);

  const HttpResult page = api("/api/incidents/1/postmortem.html");
  ASSERT_EQ(page.status, 200);
  const std::string& html = page.body;
  expect_no_markup_of_users(html);
  const std::vector<std::string> tables = elements(html, "tbody");
  ASSERT_EQ(tables.size(), 3u);  // key durations, timeline, actions
  const std::vector<std::string> rows = elements(tables.back(), "tr");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(visible_text(elements(rows[0], "td")[5]), "won't do: " + expected_cell(reason));
  EXPECT_EQ(visible_text(elements(rows[1], "td")[1]), expected_cell(edited));
  // The audit trail: each change's values and who made it, as stored.
  const std::size_t at = html.find("<h2>Action items</h2>");
  ASSERT_NE(at, std::string::npos);
  const std::vector<std::string> changes =
      elements(html.substr(at, html.find("<h2>", at + 1) - at), "li");
  ASSERT_EQ(changes.size(), revisions.size());
  for (std::size_t i = 0; i < changes.size(); ++i) {
    const json& rev = revisions[i];
    const std::string want =
        testing::collapse_whitespace(expected_cell(rev["before"].get<std::string>()) + " → " +
                                     expected_cell(rev["after"].get<std::string>()) + " (" +
                                     rev["changed_by"]["name"].get<std::string>() + ")");
    EXPECT_TRUE(visible_text(changes[i]).ends_with(want))
        << visible_text(changes[i]) << "\nwanted the end: " << want;
  }
}

TEST_F(RenderedOutputE2E, BidiOverrideFromChatIsNeutralisedInRenderedOutputKeptInData) {
  slack_->command("/incident", "start Bidi", kChannel);
  slack_->command("/timeline",
                  "deploy \xE2\x80\xAE"
                  "evil.exe\xE2\x80\xAC done",
                  kChannel);
  for (const char* path : {"/api/incidents/1", "/api/incidents/1/postmortem.json"}) {
    EXPECT_THAT(api(path).body, HasSubstr("deploy \xE2\x80\xAE"
                                          "evil.exe\xE2\x80\xAC done"))
        << path;  // data keeps the exact text
  }
  for (const char* path : {"/api/incidents/1/postmortem.md", "/api/incidents/1/postmortem.html"}) {
    const std::string body = api(path).body;
    EXPECT_THAT(body, HasSubstr("deploy ‹U+202E›evil.exe‹U+202C› done")) << path;
    EXPECT_EQ(body.find("\xE2\x80\xAE"), std::string::npos) << path;
  }
}

// No platform delivers text that is not UTF-8 (Slack's form is refused, JSON cannot carry
// it), but a store written by anything else may hold it: every answer stays valid.
TEST_F(RenderedOutputE2E, BrokenUtf8InTheStoreGivesValidOutput) {
  slack_->command("/incident", "start Broken bytes", kChannel);
  ASSERT_EQ(scribe_->terminate(), 0) << scribe_->logs();
  {
    auto store = open_store((dir_ / "scribe.db").string());
    store->write([](Transaction& tx) {
      Incident incident = *tx.find_incident(1);
      incident.title = "title \xC0\xAF";
      tx.update_incident(incident);
      TimelineEvent e;
      e.incident_id = 1;
      e.occurred_at = incident.declared_at;
      e.recorded_at = incident.declared_at;
      e.author = Person{"U0ALICE", "alice \xFF"};
      e.text = "bad \xFF\xFE bytes";
      tx.append_event(e);
    });
  }
  start();
  for (const char* path :
       {"/api/incidents", "/api/incidents/1", "/api/incidents/1/postmortem.json"}) {
    const HttpResult answer = api(path);
    ASSERT_EQ(answer.status, 200) << path << " " << answer.body;
    EXPECT_TRUE(json::accept(answer.body)) << path;
    EXPECT_THAT(answer.body, HasSubstr("title \xEF\xBF\xBD\xEF\xBF\xBD")) << path;
  }
  EXPECT_THAT(api("/api/incidents/1/postmortem.json").body,
              HasSubstr("bad \xEF\xBF\xBD\xEF\xBF\xBD bytes"));
  for (const char* path : {"/api/incidents/1/postmortem.md", "/api/incidents/1/postmortem.html"}) {
    const HttpResult answer = api(path);
    ASSERT_EQ(answer.status, 200) << path;
    EXPECT_THAT(answer.body, HasSubstr("bad \xEF\xBF\xBD\xEF\xBF\xBD bytes")) << path;
    EXPECT_TRUE(json::accept(json(answer.body).dump())) << path;  // valid UTF-8 throughout
  }
  // The slash-command reply that echoes it too.
  const json status = slack_->command("/incident", "status", kChannel);
  EXPECT_THAT(status.dump(), HasSubstr("title \xEF\xBF\xBD\xEF\xBF\xBD"));
}

// A long incident (300 events of 200 characters: a 70 KB draft) in chat.
class LongDraftE2E : public testing::SlackE2E {
 protected:
  void SetUp() override {
    // 301 commands in one channel within a second: past its command rate, by design.
    env_["SCRIBE_CHANNEL_COMMANDS_PER_MINUTE"] = "off";
    SlackE2E::SetUp();
  }
  void fill(const std::string& channel) {
    slack_->command("/incident", "start A long incident", channel);
    for (int i = 0; i < 300; ++i) {
      slack_->command("/timeline", "step " + std::to_string(i) + " " + std::string(190, 'x'),
                      channel);
    }
  }
};

TEST_F(LongDraftE2E, DraftCommandShowsAShortenedDraftThatSaysWhereTheWholeIs) {
  fill(kChannel);
  const json reply = slack_->command("/incident", "draft", kChannel);
  const std::string all = reply.dump();
  EXPECT_LT(all.size(), 16000u);
  EXPECT_THAT(all, HasSubstr("Shortened to fit a chat message. The whole draft: `scribe draft "
                             "INC-1` or `GET /api/incidents/1/postmortem.md`"));
  EXPECT_THAT(all, HasSubstr("## Action items"));
  EXPECT_THAT(all, HasSubstr("more events, #"));
  // The whole draft is where it says.
  const HttpResult md = api("/api/incidents/1/postmortem.md");
  ASSERT_EQ(md.status, 200);
  EXPECT_GT(md.body.size(), 60000u);
  EXPECT_THAT(md.body, HasSubstr("step 299 "));
}

TEST_F(LongDraftE2E, ResolvingPostsAShortenedDraftInAFewMessages) {
  fill(kChannel);
  slack_->command("/incident", "resolved", kChannel);
  // Messages of one channel go out in order: once the draft's end is there, all of it is.
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  std::vector<json> posted;
  bool ended = false;
  while (!ended && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(standin_.wait_for_calls("chat.postMessage", posted.size() + 1, 20s));
    posted = standin_.posted_messages();
    for (const auto& m : posted) {
      if (m.dump().find("Drafted by Scribe at") != std::string::npos) ended = true;
    }
  }
  ASSERT_TRUE(ended);
  // A summary and the shortened draft (at most 10,000 bytes in pieces of 2,800), where the
  // whole draft would have taken about 25.
  EXPECT_LE(posted.size(), 6u);
  std::string all;
  for (const auto& m : posted) all += m.dump();
  EXPECT_THAT(all, HasSubstr("Shortened to fit a chat message"));
}

class RenderedOutputMatrixE2E : public testing::SlackE2E {
 protected:
  void SetUp() override {
    env_["SCRIBE_MATRIX_HOMESERVER_URL"] = homeserver_.base_url();
    env_["SCRIBE_MATRIX_AS_TOKEN"] = homeserver_.as_token();
    env_["SCRIBE_MATRIX_HS_TOKEN"] = kHsToken;
    env_["SCRIBE_MATRIX_USER_ID"] = "@scribe:standin.test";
    SlackE2E::SetUp();
  }

  json message(const std::string& body) {
    return {{"type", "m.room.message"},
            {"room_id", kRoom},
            {"sender", "@eve:standin.test"},
            {"event_id", "$h" + std::to_string(++event_counter_)},
            {"origin_server_ts", std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()},
            {"content", {{"msgtype", "m.text"}, {"body", body}}}};
  }

  static constexpr const char* kHsToken = "hs-token-e2e-hostile";
  static constexpr const char* kRoom = "!hostile:standin.test";
  testing::MatrixStandIn homeserver_;
  int event_counter_ = 0;
};

TEST_F(RenderedOutputMatrixE2E, RepliesAndDraftInTheRoomShowUserTextAsText) {
  json events = json::array({message("!incident start Hostile room")});
  for (const std::string& typed : hostile_utf8_texts()) {
    events.push_back(message("!timeline " + typed));
  }
  events.push_back(message("!incident draft"));
  const auto pushed =
      homeserver_.push_transaction(scribe_->base_url(), kHsToken, "txn-hostile", events);
  ASSERT_EQ(pushed.status, 200) << pushed.body;
  ASSERT_TRUE(homeserver_.wait_for_messages(events.size(), kRoom, 30s));

  bool saw_draft = false;
  for (const auto& m : homeserver_.sent_messages(kRoom)) {
    const std::string html = m.content.value("formatted_body", "");
    expect_no_markup_of_users(html.substr(html.find(':') + 1));  // after any pill
    for (std::size_t at = html.find("<a "); at != std::string::npos;
         at = html.find("<a ", at + 1)) {
      EXPECT_EQ(html.compare(at, 32, "<a href=\"https://matrix.to/#/@"), 0) << html;
    }
    if (html.find("<table>") == std::string::npos) continue;
    saw_draft = true;
    const std::vector<std::string> tables = elements(html, "tbody");
    ASSERT_EQ(tables.size(), 2u);  // key durations, timeline
    std::vector<std::string> shown;
    for (const std::string& row : elements(tables[1], "tr")) {
      const std::vector<std::string> cells = elements(row, "td");
      ASSERT_EQ(cells.size(), 6u);
      if (visible_text(cells[4]).empty()) shown.push_back(visible_text(cells[5]));
    }
    const json record = api_json("/api/incidents/1");
    std::vector<std::string> stored;
    for (const auto& e : record["timeline"]) {
      if (e["kind"] == "note") stored.push_back(expected_cell(e["text"].get<std::string>()));
    }
    EXPECT_EQ(shown, stored);
  }
  EXPECT_TRUE(saw_draft);
}

}  // namespace
}  // namespace scribe

// The publishing destinations' requests and the reading of their answers: GitLab
// repository files, Confluence Data Center, Notion and Google Docs, each against the
// stand-in (tests/support/tracker_standin.h) that checks the documented shapes, plus the
// pure pieces (Notion blocks and chunking, the service-account JWT, the Drive upload).
#include <filesystem>
#include <fstream>
#include <random>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "publish/destinations.h"
#include "publish/google.h"
#include "publish/notion.h"
#include "support/rsa_key.h"
#include "support/tracker_standin.h"
#include "util/secret.h"

namespace scribe::publish {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

Page sample_page(const std::string& body = "Checkout returned 502 for 18% of requests.") {
  Page p;
  p.key = "INC-7";
  p.title = "INC-7: Checkout errors \u2014 postmortem";
  p.markdown = "# INC-7: Checkout errors\n\n## Summary\n\n" + body + "\n";
  p.html = "<h1>INC-7: Checkout errors</h1>\n<h2>Summary</h2>\n<p>" + body + "</p>\n";
  p.file_name = "2026-11-28-INC-7-checkout-errors.md";
  return p;
}

Publication as_publication(const std::string& destination, const Written& w) {
  Publication p;
  p.incident_id = 7;
  p.destination = destination;
  p.remote_id = w.remote_id;
  p.url = w.url;
  p.version = w.version;
  return p;
}

std::unique_ptr<Destination> only(const Settings& s) {
  auto all = make_destinations(s);
  EXPECT_EQ(all.size(), 1u);
  return all.empty() ? nullptr : std::move(all[0]);
}

// --- GitLab ---------------------------------------------------------------------------------

TEST(GitLabFiles, CreatesThenUpdatesAndFindsAFileWrittenBeforeACrash) {
  testing::TrackerStandIn standin;
  Settings s;
  s.gitlab_url = standin.base_url();
  s.gitlab_token = standin.token();
  s.gitlab_project = "grp/postmortems";
  ASSERT_TRUE(s.git());
  ASSERT_TRUE(s.git_gitlab());
  auto git = only(s);
  EXPECT_EQ(git->name(), "git");
  EXPECT_EQ(git->display(), "GitLab");

  Written w;
  ASSERT_TRUE(git->write(sample_page(), std::nullopt, w).ok());
  EXPECT_EQ(w.remote_id, "postmortems/2026-11-28-INC-7-checkout-errors.md");
  EXPECT_EQ(w.url,
            "https://gitlab.example/grp/postmortems/-/blob/main/postmortems/"
            "2026-11-28-INC-7-checkout-errors.md");
  EXPECT_EQ(w.version, 1);
  // The project (its default branch), the file's absence, then the creation, with the whole
  // path one encoded parameter and the token in PRIVATE-TOKEN.
  const auto calls = standin.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0].target, "/api/v4/projects/grp%2Fpostmortems");
  EXPECT_EQ(calls[1].target,
            "/api/v4/projects/grp%2Fpostmortems/repository/files/"
            "postmortems%2F2026-11-28-INC-7-checkout-errors.md?ref=main");
  EXPECT_EQ(calls[1].status, 404u);
  EXPECT_EQ(calls[2].method, "POST");
  EXPECT_EQ(calls[2].header("private-token"), standin.token());
  const json body = json::parse(calls[2].body);
  EXPECT_EQ(body["branch"], "main");
  EXPECT_EQ(body["encoding"], "base64");
  EXPECT_EQ(body["commit_message"], "INC-7: Checkout errors \u2014 postmortem (new)");
  ASSERT_EQ(standin.files().size(), 1u);
  EXPECT_EQ(standin.files()[0].content, sample_page().markdown);

  // An update names the same file, by PUT.
  Written w2;
  ASSERT_TRUE(git->write(sample_page("Now 19%."), as_publication("git", w), w2).ok());
  EXPECT_EQ(w2.version, 2);
  EXPECT_EQ(standin.calls().back().method, "PUT");
  EXPECT_EQ(standin.files()[0].commits, 2);
  EXPECT_THAT(standin.files()[0].content, HasSubstr("Now 19%."));

  // Our record lost after the write: the file is found at its fixed path, and since it
  // already says exactly this, nothing is committed.
  const auto before = standin.calls().size();
  Written w3;
  ASSERT_TRUE(git->write(sample_page("Now 19%."), std::nullopt, w3).ok());
  EXPECT_EQ(w3.remote_id, w.remote_id);
  EXPECT_EQ(standin.calls().size(), before + 1);  // the GET alone
  EXPECT_EQ(standin.files()[0].commits, 2);
  EXPECT_EQ(standin.files().size(), 1u);
}

TEST(GitLabFiles, AConfiguredBranchAndRefusalsAreKept) {
  testing::TrackerStandIn standin;
  Settings s;
  s.gitlab_url = standin.base_url();
  s.gitlab_token = "wrong";
  s.gitlab_project = "42";
  auto git = only(s);
  Written w;
  const CallResult r = git->write(sample_page(), std::nullopt, w);
  EXPECT_EQ(r.outcome, CallResult::Outcome::kPermanent);
  EXPECT_THAT(r.error, HasSubstr("HTTP 401"));
  EXPECT_TRUE(standin.files().empty());
  // A branch the project does not have: GitLab's 400 is permanent, and nothing is made.
  s.gitlab_token = standin.token();
  s.git_branch = "release";
  git = only(s);
  EXPECT_EQ(git->write(sample_page(), std::nullopt, w).outcome, CallResult::Outcome::kPermanent);
  EXPECT_TRUE(standin.files().empty());
}

TEST(GitProvider, ChoosesByConfiguration) {
  Settings s;
  s.github_token = "t";
  s.github_repo = "acme/pm";
  EXPECT_FALSE(s.git_gitlab());
  s.gitlab_token = "t";
  s.gitlab_project = "grp/pm";
  EXPECT_FALSE(s.git_gitlab());  // auto: GitHub first
  s.git_provider = "gitlab";
  EXPECT_TRUE(s.git_gitlab());
  s.git_provider = "auto";
  s.github_token.clear();
  EXPECT_TRUE(s.git_gitlab());
  EXPECT_EQ(s.destinations(), std::vector<std::string>{"git"});
}

// --- Confluence Data Center ------------------------------------------------------------------

TEST(ConfluenceDataCenter, ChosenByApiOrHost) {
  Settings s;
  s.confluence_url = "https://acme.atlassian.net";
  EXPECT_TRUE(s.confluence_cloud());
  s.confluence_url = "https://wiki.acme.example/confluence";
  EXPECT_FALSE(s.confluence_cloud());
  s.confluence_url = "https://acme.atlassian.net.evil.example";
  EXPECT_FALSE(s.confluence_cloud());
  s.confluence_api = "cloud";
  EXPECT_TRUE(s.confluence_cloud());
  s.confluence_url = "https://acme.atlassian.net";
  s.confluence_api = "datacenter";
  EXPECT_FALSE(s.confluence_cloud());
}

TEST(ConfluenceDataCenter, PageBodyInStorageFormat) {
  const json create = datacenter_page_body(sample_page(), "OPS", "4242", 0);
  EXPECT_EQ(create["type"], "page");
  EXPECT_EQ(create["space"]["key"], "OPS");
  EXPECT_EQ(create["ancestors"], json::parse(R"([{"id":"4242"}])"));
  EXPECT_EQ(create["body"]["storage"]["representation"], "storage");
  EXPECT_EQ(create["body"]["storage"]["value"], sample_page().html);
  EXPECT_FALSE(create.contains("version"));
  const json update = datacenter_page_body(sample_page(), "OPS", "", 4);
  EXPECT_EQ(update["version"]["number"], 4);
  EXPECT_FALSE(update.contains("ancestors"));
}

TEST(ConfluenceDataCenter, CreatesUpdatesWithTheNextVersionAndFindsByTitle) {
  testing::TrackerStandIn standin;
  Settings s;
  s.confluence_url = standin.base_url();
  s.confluence_api = "datacenter";
  s.confluence_token = standin.token();  // a personal access token: no user
  s.confluence_space = "OPS";
  s.confluence_parent = "4242";
  auto confluence = only(s);
  Written w;
  ASSERT_TRUE(confluence->write(sample_page(), std::nullopt, w).ok());
  EXPECT_EQ(w.version, 1);
  // _links.base (with the context path) and webui.
  EXPECT_EQ(w.url, standin.base_url() + "/confluence/pages/viewpage.action?pageId=" + w.remote_id);
  EXPECT_EQ(standin.calls().back().header("authorization"), "Bearer " + standin.token());
  ASSERT_EQ(standin.pages().size(), 1u);
  EXPECT_EQ(standin.pages()[0].parent, "4242");

  Written w2;
  ASSERT_TRUE(confluence->write(sample_page("Edited."), as_publication("confluence", w), w2).ok());
  EXPECT_EQ(w2.version, 2);
  EXPECT_EQ(w2.remote_id, w.remote_id);
  // The record lost: the page is found by its title and updated after its own version.
  Written w3;
  ASSERT_TRUE(confluence->write(sample_page("Again."), std::nullopt, w3).ok());
  EXPECT_EQ(w3.remote_id, w.remote_id);
  EXPECT_EQ(w3.version, 3);
  ASSERT_EQ(standin.pages().size(), 1u);
  EXPECT_THAT(standin.pages()[0].body, HasSubstr("Again."));
}

// --- Notion ----------------------------------------------------------------------------------

std::string text_of(const json& block) {
  std::string out;
  const std::string type = block["type"];
  for (const json& t : block[type]["rich_text"]) out += t["text"]["content"].get<std::string>();
  return out;
}

TEST(NotionBlocks, FromTheDocument) {
  const auto blocks = notion_blocks(
      "# INC-7: Checkout \\*errors\\*\n\n## Summary\n\nPlain **bold** *it* `code` "
      "[link](https://example.com/x) [bad](javascript:alert)\n\n"
      "- one\n- two\n  - nested\n\n1. first\n\n> quoted\n\n---\n\n"
      "| Time | Event |\n|---|---|\n| 14:05 | paged |\n| 14:09 | fixed \\| really |\n");
  std::vector<std::string> types;
  for (const json& b : blocks) types.push_back(b["type"]);
  EXPECT_EQ(types,
            (std::vector<std::string>{"heading_1", "heading_2", "paragraph", "bulleted_list_item",
                                      "bulleted_list_item", "bulleted_list_item",
                                      "numbered_list_item", "quote", "divider", "table"}));
  EXPECT_EQ(text_of(blocks[0]), "INC-7: Checkout *errors*");  // escapes read as text
  const json& rich = blocks[2]["paragraph"]["rich_text"];
  EXPECT_EQ(text_of(blocks[2]), "Plain bold it code link bad");
  bool bold = false, italic = false, code = false, link = false;
  for (const json& t : rich) {
    const std::string c = t["text"]["content"];
    if (c == "bold") bold = t["annotations"]["bold"];
    if (c == "it") italic = t["annotations"]["italic"];
    if (c == "code") code = t["annotations"]["code"];
    if (c == "link") link = t["text"]["link"]["url"] == "https://example.com/x";
    if (c == "bad") {
      EXPECT_FALSE(t["text"].contains("link"));  // only web links
    }
  }
  EXPECT_TRUE(bold && italic && code && link);
  EXPECT_EQ(text_of(blocks[5]), "  \u25e6 nested");
  const json& table = blocks[9]["table"];
  EXPECT_EQ(table["table_width"], 2);
  EXPECT_TRUE(table["has_column_header"].get<bool>());
  ASSERT_EQ(table["children"].size(), 3u);
  EXPECT_EQ(table["children"][2]["table_row"]["cells"][1][0]["text"]["content"], "fixed | really");
}

TEST(NotionBlocks, LongTextIsSplitWithinTheLimits) {
  // 4,500 two-byte characters: three objects of at most 2,000; 1,500 astral characters
  // (two UTF-16 units each): 3,000 units, two objects, never a character cut.
  std::string long_text;
  for (int i = 0; i < 4500; ++i) long_text += "\u00e9";
  json rich = notion_text(long_text);
  ASSERT_EQ(rich.size(), 3u);
  EXPECT_EQ(rich[0]["text"]["content"].get<std::string>().size(), 4000u);
  EXPECT_EQ(rich[2]["text"]["content"].get<std::string>().size(), 1000u);
  std::string astral;
  for (int i = 0; i < 1500; ++i) astral += "\U0001F525";
  rich = notion_text(astral);
  ASSERT_EQ(rich.size(), 2u);
  EXPECT_EQ(rich[0]["text"]["content"].get<std::string>().size(), 4000u);  // 1,000 of them
  // A paragraph of 150 × 2,000 characters: more than 100 objects, so two blocks.
  const auto blocks = notion_blocks(std::string(300'000, 'a'));
  ASSERT_EQ(blocks.size(), 5u);  // and each under 60 KB of text
  std::size_t total = 0;
  for (const json& b : blocks) {
    EXPECT_LE(b["paragraph"]["rich_text"].size(), 100u);
    total += text_of(b).size();
  }
  EXPECT_EQ(total, 300'000u);
}

TEST(NotionAppends, AtMost100BlocksAndRowsAndBoundedElements) {
  std::string md;
  for (int i = 0; i < 250; ++i) md += "Paragraph " + std::to_string(i) + "\n\n";
  auto plan = plan_notion_appends(notion_blocks(md));
  ASSERT_EQ(plan.size(), 3u);
  EXPECT_EQ(plan[0].children.size(), 100u);
  EXPECT_EQ(plan[2].children.size(), 50u);
  EXPECT_EQ(text_of(plan[2].children[49]), "Paragraph 249");

  // A 250-row table: 100 rows go with it, 150 follow in two appends to the table.
  std::string table = "Before\n\n| a | b |\n|---|---|\n";
  for (int i = 0; i < 250; ++i) table += "| " + std::to_string(i) + " | x |\n";
  plan = plan_notion_appends(notion_blocks(table + "\nAfter\n"));
  ASSERT_EQ(plan.size(), 1u);
  ASSERT_EQ(plan[0].children.size(), 3u);
  ASSERT_EQ(plan[0].table_index, std::vector<std::size_t>{1});
  EXPECT_EQ(plan[0].children[1]["table"]["children"].size(), 100u);
  ASSERT_EQ(plan[0].more_rows[0].size(), 2u);
  EXPECT_EQ(plan[0].more_rows[0][0].size(), 100u);
  EXPECT_EQ(plan[0].more_rows[0][1].size(), 51u);  // 251 rows with the header

  // Twelve full tables: at most 1,000 block elements a request.
  std::string tables;
  for (int t = 0; t < 12; ++t) {
    tables += "| a |\n|---|\n";
    for (int i = 0; i < 99; ++i) tables += "| r |\n";
    tables += "\n";
  }
  plan = plan_notion_appends(notion_blocks(tables));
  std::size_t seen = 0;
  for (const auto& batch : plan) {
    std::size_t elements = 0;
    for (const json& b : batch.children) elements += 1 + b["table"]["children"].size();
    EXPECT_LE(elements, 1000u);
    EXPECT_LE(batch.children.dump().size(), kNotionRequestBytes);
    seen += batch.children.size();
  }
  EXPECT_EQ(seen, 12u);
  EXPECT_EQ(plan.size(), 2u);
}

TEST(NotionPages, CreatesUnderTheParentReplacesOnUpdateAndFindsByTitle) {
  testing::TrackerStandIn standin;
  Settings s;
  s.notion_api_url = standin.base_url();
  s.notion_token = standin.token();
  s.notion_parent = testing::TrackerStandIn::kNotionParent;
  auto notion = only(s);
  EXPECT_EQ(notion->name(), "notion");
  std::string rows = "| Time | Event |\n|---|---|\n";
  for (int i = 0; i < 230; ++i)
    rows += "| +00:" + std::to_string(i) + " | event " + std::to_string(i) + " |\n";
  Page page = sample_page();
  page.markdown += "\n## Timeline\n\n" + rows;
  Written w;
  ASSERT_TRUE(notion->write(page, std::nullopt, w).ok());
  EXPECT_EQ(
      w.url, "https://www.notion.so/" + [&] {
        std::string id = w.remote_id;
        id.erase(std::remove(id.begin(), id.end(), '-'), id.end());
        return id;
      }());
  for (const auto& c : standin.calls()) {
    EXPECT_EQ(c.header("notion-version"), "2022-06-28") << c.target;
    EXPECT_EQ(c.header("authorization"), "Bearer " + standin.token());
  }
  auto pages = standin.notion_pages();
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].title, page.title);
  ASSERT_EQ(pages[0].blocks.size(), 5u);
  EXPECT_EQ(pages[0].blocks[4]["type"], "table");
  EXPECT_EQ(pages[0].blocks[4]["rows"], 231);  // header and all 230, in order
  EXPECT_EQ(pages[0].blocks[4]["cells"][230][1], "event 229");

  // An update: same page, renamed, the old blocks gone and the new ones in their place.
  page.title = "INC-7: Checkout errors (EU) \u2014 postmortem";
  page.markdown = "# INC-7\n\nShorter now.\n";
  Written w2;
  ASSERT_TRUE(notion->write(page, as_publication("notion", w), w2).ok());
  EXPECT_EQ(w2.remote_id, w.remote_id);
  EXPECT_EQ(w2.version, 2);
  pages = standin.notion_pages();
  ASSERT_EQ(pages.size(), 1u);
  EXPECT_EQ(pages[0].title, page.title);
  ASSERT_EQ(pages[0].blocks.size(), 2u);
  EXPECT_EQ(pages[0].blocks[1]["text"], "Shorter now.");

  // Our record lost: the page is found among the parent's child pages by its title.
  Written w3;
  ASSERT_TRUE(notion->write(page, std::nullopt, w3).ok());
  EXPECT_EQ(w3.remote_id, w.remote_id);
  EXPECT_EQ(standin.notion_pages().size(), 1u);
  EXPECT_EQ(standin.notion_pages()[0].blocks.size(), 2u);
}

TEST(NotionPages, AParentNotSharedIsRefused) {
  testing::TrackerStandIn standin;
  Settings s;
  s.notion_api_url = standin.base_url();
  s.notion_token = standin.token();
  s.notion_parent = "00000000-0000-4000-8000-000000000000";
  Written w;
  const CallResult r = only(s)->write(sample_page(), std::nullopt, w);
  EXPECT_EQ(r.outcome, CallResult::Outcome::kPermanent);
  EXPECT_TRUE(standin.notion_pages().empty());
}

// --- Google Docs -----------------------------------------------------------------------------

TEST(ServiceAccount, KeyFilesAreCheckedWhenRead) {
  const auto key = testing::make_rsa_key();
  std::string error;
  auto account =
      parse_service_account(testing::service_account_json(key, "scribe@p.iam.gserviceaccount.com",
                                                          "https://oauth2.googleapis.com/token"),
                            error);
  ASSERT_TRUE(account.has_value()) << error;
  EXPECT_EQ(account->client_email, "scribe@p.iam.gserviceaccount.com");
  EXPECT_EQ(account->token_uri, "https://oauth2.googleapis.com/token");
  for (
      const auto& [text, why] : std::vector<std::pair<std::string, std::string>>{
          {"not json", "not a JSON object"},
          {R"({"type":"authorized_user"})", "not service_account"},
          {R"({"type":"service_account","private_key":"x","token_uri":"t"})", "no client_email"},
          {R"({"client_email":"a","private_key":"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n","token_uri":"t"})",
           "not an RSA private key"}}) {
    EXPECT_FALSE(parse_service_account(text, error).has_value()) << text;
    EXPECT_THAT(error, HasSubstr(why));
  }
  EXPECT_FALSE(read_service_account("/nonexistent/key.json", error).has_value());
  EXPECT_THAT(error, HasSubstr("cannot read /nonexistent/key.json"));
}

TEST(ServiceAccount, TheJwtIsSignedWithRs256AndVerifiesWithThePublicKey) {
  EXPECT_EQ(base64url("\xfb\xff"), "-_8");
  EXPECT_EQ(base64url("ab"), "YWI");
  const auto key = testing::make_rsa_key();
  ServiceAccount a{"scribe@p.iam.gserviceaccount.com", key.private_pem, "https://t.example/token"};
  std::string error;
  const auto now = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));
  const std::string jwt =
      service_account_jwt(a, "https://t.example/token", kDriveScope, now, error);
  ASSERT_FALSE(jwt.empty()) << error;
  const auto dot1 = jwt.find('.'), dot2 = jwt.rfind('.');
  ASSERT_NE(dot1, dot2);
  auto decode = [](std::string s) {
    for (char& c : s) c = c == '-' ? '+' : c == '_' ? '/' : c;
    while (s.size() % 4) s += '=';
    std::string out(s.size(), '\0');
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(s.data()),
                                  static_cast<int>(s.size()));
    out.resize(static_cast<std::size_t>(n));
    for (std::size_t i = s.size(); i > 0 && s[i - 1] == '='; --i) out.pop_back();
    return out;
  };
  EXPECT_EQ(json::parse(decode(jwt.substr(0, dot1))),
            json::parse(R"({"alg":"RS256","typ":"JWT"})"));
  const json claims = json::parse(decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1)));
  EXPECT_EQ(claims["iss"], a.client_email);
  EXPECT_EQ(claims["aud"], "https://t.example/token");
  EXPECT_EQ(claims["scope"], "https://www.googleapis.com/auth/drive");
  EXPECT_EQ(claims["iat"], 1'800'000'000);
  EXPECT_EQ(claims["exp"], 1'800'003'600);
  const std::string signature = decode(jwt.substr(dot2 + 1));
  EXPECT_EQ(signature.size(), 256u);  // RSA-2048
  BIO* bio = BIO_new_mem_buf(key.public_pem.data(), static_cast<int>(key.public_pem.size()));
  EVP_PKEY* pub = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(pub, nullptr);
  auto verifies = [&](const std::string& input) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok =
        EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, pub) == 1 &&
        EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                         input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
  };
  EXPECT_TRUE(verifies(jwt.substr(0, dot2)));
  EXPECT_FALSE(verifies(jwt.substr(0, dot2) + "x"));
  EVP_PKEY_free(pub);
}

TEST(DriveUpload, MultipartMetadataThenHtml) {
  const Page page = sample_page();
  const json meta = drive_create_metadata(page, "folder123");
  EXPECT_EQ(meta["mimeType"], "application/vnd.google-apps.document");
  EXPECT_EQ(meta["parents"], json::array({"folder123"}));
  EXPECT_EQ(meta["appProperties"]["scribeIncident"], "INC-7");
  const std::string html = drive_html(page);
  EXPECT_THAT(html, HasSubstr("<meta charset=\"utf-8\"><title>INC-7: Checkout errors \u2014 "));
  EXPECT_THAT(html, HasSubstr(page.html));
  EXPECT_EQ(drive_multipart(json{{"name", "x"}}, "text/html; charset=UTF-8", "<p>hi</p>", "b0"),
            "--b0\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{\"name\":\"x\"}\r\n"
            "--b0\r\nContent-Type: text/html; charset=UTF-8\r\n\r\n<p>hi</p>\r\n--b0--\r\n");
}

class GoogleDocsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto key = testing::make_rsa_key();
    standin_.set_google_account("scribe@p.iam.gserviceaccount.com", key.public_pem);
    s_.google_api_url = standin_.base_url();
    s_.google_folder = "folder123";
    s_.google_account = {"scribe@p.iam.gserviceaccount.com", key.private_pem,
                         standin_.base_url() + "/token"};
    s_.google_token_url = s_.google_account.token_uri;
  }
  testing::TrackerStandIn standin_;
  Settings s_;
};

TEST_F(GoogleDocsTest, UploadsConvertedReplacesContentAndReusesTheToken) {
  auto docs = only(s_);
  EXPECT_EQ(docs->name(), "gdocs");
  Written w;
  ASSERT_TRUE(docs->write(sample_page(), std::nullopt, w).ok());
  auto all = standin_.google_docs();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(w.remote_id, all[0].id);
  EXPECT_EQ(w.url, "https://docs.google.com/document/d/" + all[0].id + "/edit?usp=drivesdk");
  EXPECT_EQ(all[0].name, sample_page().title);
  EXPECT_EQ(all[0].parents, std::vector<std::string>{"folder123"});
  EXPECT_THAT(all[0].html, HasSubstr("<p>Checkout returned 502 for 18% of requests.</p>"));
  const auto token_call = standin_.calls()[0];
  EXPECT_EQ(token_call.target, "/token");
  EXPECT_THAT(
      token_call.body,
      HasSubstr("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion="));

  // An update replaces the content (a media upload) and renames; the token is reused.
  Page page = sample_page("Edited.");
  page.title = "INC-7: Checkout errors (EU) \u2014 postmortem";
  Written w2;
  ASSERT_TRUE(docs->write(page, as_publication("gdocs", w), w2).ok());
  all = standin_.google_docs();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].revisions, 2);
  EXPECT_EQ(all[0].name, page.title);
  EXPECT_THAT(all[0].html, HasSubstr("Edited."));
  EXPECT_EQ(standin_.google_tokens_issued(), 1);

  // The record lost: the document is found by its incident property in the folder.
  Written w3;
  ASSERT_TRUE(docs->write(sample_page("Third."), std::nullopt, w3).ok());
  EXPECT_EQ(w3.remote_id, w.remote_id);
  EXPECT_EQ(standin_.google_docs().size(), 1u);
  EXPECT_EQ(standin_.google_tokens_issued(), 1);
}

TEST_F(GoogleDocsTest, ARevokedTokenIsRenewedOnTheRetry) {
  auto docs = only(s_);
  Written w;
  ASSERT_TRUE(docs->write(sample_page(), std::nullopt, w).ok());
  standin_.expire_google_tokens();
  Written w2;
  const CallResult r = docs->write(sample_page("Edited."), as_publication("gdocs", w), w2);
  EXPECT_EQ(r.outcome, CallResult::Outcome::kRetry);
  EXPECT_THAT(r.error, HasSubstr("HTTP 401"));
  ASSERT_TRUE(docs->write(sample_page("Edited."), as_publication("gdocs", w), w2).ok());
  EXPECT_EQ(standin_.google_tokens_issued(), 2);
  EXPECT_EQ(standin_.google_docs()[0].revisions, 2);
}

TEST_F(GoogleDocsTest, AKeyTheTokenEndpointDoesNotKnowIsRefused) {
  s_.google_account.private_key = testing::make_rsa_key().private_pem;  // another key
  Written w;
  const CallResult r = only(s_)->write(sample_page(), std::nullopt, w);
  EXPECT_EQ(r.outcome, CallResult::Outcome::kPermanent);
  EXPECT_THAT(r.error, HasSubstr("invalid_grant Invalid JWT Signature."));
  EXPECT_TRUE(standin_.google_docs().empty());
  EXPECT_EQ(standin_.google_tokens_issued(), 0);
}

}  // namespace
}  // namespace scribe::publish

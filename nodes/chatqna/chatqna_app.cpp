#include "nodes/chatqna/chatqna_app.hpp"

#include "nodes/chatqna/chatqna_service.hpp"

namespace opea::nodes {

namespace {

class chatqna_app final : public application {
 public:
  std::string_view api() const override { return "chatqna"; }

  void prepare(const megaservice_config&, runtime::service_orchestrator& o) const override {
    set_chatqna_hooks(o);
  }

  std::vector<runtime::http::route> routes(const megaservice_config& mc,
                                           const runtime::flow_runner& run) const override {
    std::vector<runtime::http::route> out;
    out.push_back({mc.route, mc.methods, chatqna_handler(run, chat_api::opea_chatqna)});
    if (!mc.openai_route.empty())
      out.push_back({mc.openai_route, {"POST"}, chatqna_handler(run, chat_api::openai)});
    return out;
  }
};

}  // namespace

std::unique_ptr<application> make_chatqna_app() {
  return std::make_unique<chatqna_app>();
}

}  // namespace opea::nodes

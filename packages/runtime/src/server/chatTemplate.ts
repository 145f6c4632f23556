import { Template } from "@huggingface/jinja";
import { RuntimeError } from "../backend/errors.js";

export interface ChatMessage {
  role: string;
  content: string;
}

/** A Hugging Face chat template (Jinja, as in tokenizer_config.json), parsed once. */
export class ChatTemplate {
  private readonly template: Template;

  constructor(
    source: string,
    private readonly specials: { bosToken?: string; eosToken?: string } = {},
  ) {
    try {
      this.template = new Template(source);
    } catch (error) {
      throw new RuntimeError(
        "ModelLoadFailed",
        `chat_template: expected a Jinja template, found a parse error (${(error as Error).message})`,
        { cause: error },
      );
    }
  }

  /** The prompt text for `messages`, ending with the assistant's turn opened (`add_generation_prompt`). */
  render(messages: readonly ChatMessage[]): string {
    try {
      return this.template.render({
        messages,
        add_generation_prompt: true,
        bos_token: this.specials.bosToken ?? "",
        eos_token: this.specials.eosToken ?? "",
      });
    } catch (error) {
      throw new RuntimeError("InvalidArgument", `messages: the chat template failed (${(error as Error).message})`, {
        cause: error,
      });
    }
  }
}

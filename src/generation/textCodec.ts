/**
 * Tokenizer and chat template of a model folder: `tokenizer.json` through
 * @huggingface/tokenizers, the `chat_template` of `tokenizer_config.json` through
 * @huggingface/jinja, and incremental detokenization for streaming with stop strings.
 */
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { errorMessage } from '../core/errorMessage.js';

export interface ChatMessage {
  role: string;
  content: string;
}

/** Used when tokenizer_config.json has no chat_template (e.g. base GPT-2 exports). */
export const FALLBACK_CHAT_TEMPLATE =
  "{% for message in messages %}{{ message['role'] + ': ' + message['content'] + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}";

export class ChatTemplateError extends Error {
  override name = 'ChatTemplateError';
}

export class TextCodec {
  private readonly tokenizer: Tokenizer;
  private readonly template: Template;
  private readonly specialTokens: Record<string, string>;
  readonly usesFallbackTemplate: boolean;
  readonly eosTokenIds: number[];

  constructor(tokenizerJson: object, tokenizerConfig: Record<string, unknown>, configEosIds: number[]) {
    this.tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    const templateSource = chatTemplateSource(tokenizerConfig.chat_template);
    this.usesFallbackTemplate = templateSource === undefined;
    this.template = new Template(templateSource ?? FALLBACK_CHAT_TEMPLATE);
    this.specialTokens = {};
    for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token']) {
      const token = tokenText(tokenizerConfig[key]);
      if (token !== undefined) this.specialTokens[key] = token;
    }
    const eos = new Set(configEosIds);
    const eosId = this.specialTokens.eos_token === undefined ? undefined : this.tokenizer.token_to_id(this.specialTokens.eos_token);
    if (eosId !== undefined) eos.add(eosId);
    this.eosTokenIds = [...eos];
  }

  /** Renders messages with the model's template, ending with the assistant turn's opening. */
  renderChat(messages: ChatMessage[]): string {
    try {
      return this.template.render({ messages, add_generation_prompt: true, ...this.specialTokens });
    } catch (error) {
      throw new ChatTemplateError(`chat template rejected the messages: ${errorMessage(error)}`);
    }
  }

  /** Chat prompts already carry their special tokens from the template; plain prompts get the tokenizer's. */
  encode(text: string, addSpecialTokens: boolean): number[] {
    return this.tokenizer.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  decode(ids: number[]): string {
    return this.tokenizer.decode(ids, { skip_special_tokens: true, clean_up_tokenization_spaces: false });
  }
}

function chatTemplateSource(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  // Some configs list named templates: [{ name: 'default', template: '…' }, …].
  if (Array.isArray(value)) {
    const named = value.find((entry) => entry?.name === 'default') ?? value[0];
    return typeof named?.template === 'string' ? named.template : undefined;
  }
  return undefined;
}

function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string') return (value as { content: string }).content;
  return undefined;
}

/**
 * Turns a growing list of generated ids into text deltas. It holds back text that may still
 * change: an unfinished UTF-8 sequence (decoded as U+FFFD) and any tail that could be the start
 * of a stop string. Once a stop string appears, the text is cut before it.
 */
export class TextStream {
  private readonly ids: number[] = [];
  private emitted = 0;
  private text = '';
  stopped = false;

  constructor(
    private readonly codec: TextCodec,
    private readonly stopStrings: string[],
  ) {}

  /** Adds a token; returns the newly safe text (possibly empty). */
  push(id: number): string {
    this.ids.push(id);
    this.text = this.codec.decode(this.ids);
    for (const stop of this.stopStrings) {
      const at = this.text.indexOf(stop);
      if (at >= 0) {
        this.text = this.text.slice(0, at);
        this.stopped = true;
      }
    }
    if (this.stopped) return this.flush();
    let safeEnd = this.text.length;
    while (safeEnd > this.emitted && this.text[safeEnd - 1] === '\uFFFD') safeEnd--;
    for (const stop of this.stopStrings) {
      for (let keep = Math.min(stop.length - 1, safeEnd - this.emitted); keep > 0; keep--) {
        if (this.text.slice(safeEnd - keep, safeEnd) === stop.slice(0, keep)) {
          safeEnd -= keep;
          break;
        }
      }
    }
    return this.take(safeEnd);
  }

  /** Everything not yet emitted, at the end of generation. */
  flush(): string {
    return this.take(this.text.length);
  }

  get fullText(): string {
    return this.text;
  }

  private take(end: number): string {
    if (end <= this.emitted) return '';
    const delta = this.text.slice(this.emitted, end);
    this.emitted = end;
    return delta;
  }
}

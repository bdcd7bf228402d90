import { extractQuestion, NOT_FOUND_ANSWER, parsePassages } from '@quire/api-client';
import { describe, expect, it } from 'vitest';
import { ANSWER_PROMPT_VERSION, ANSWER_SYSTEM_PROMPT, answerMessages, answerUserMessage } from './prompts.js';

describe('answer prompts', () => {
  it('demands passage-only answers, [n] citations and the exact not-found sentence', () => {
    expect(ANSWER_PROMPT_VERSION).toMatch(/^answer-v\d+$/);
    expect(ANSWER_SYSTEM_PROMPT).toContain('only the numbered passages');
    expect(ANSWER_SYSTEM_PROMPT).toContain('[2]');
    expect(ANSWER_SYSTEM_PROMPT).toContain(`exactly this sentence and nothing else:\n  ${NOT_FOUND_ANSWER}`);
  });

  it('holds no line a passage parser would take for a passage', () => {
    expect(parsePassages(ANSWER_SYSTEM_PROMPT)).toEqual([]);
  });

  it('puts the passage block first and the question last, readable back', () => {
    const block = '[1] (source: a.txt) Alpha.\n[2] Beta.';
    const user = answerUserMessage('What is\nalpha?', block);
    expect(user).toBe('Passages:\n[1] (source: a.txt) Alpha.\n[2] Beta.\n\nQuestion: What is alpha?');
    expect(parsePassages(user).map((p) => p.number)).toEqual([1, 2]);
    expect(extractQuestion(user)).toBe('What is alpha?');
    expect(answerMessages('Q?', block)).toEqual([
      { role: 'system', content: ANSWER_SYSTEM_PROMPT },
      { role: 'user', content: answerUserMessage('Q?', block) },
    ]);
  });
});

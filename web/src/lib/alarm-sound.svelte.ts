/**
 * Audible cues made with the Web Audio API (oscillator beeps, no audio files):
 * one pattern per alarm priority, distinct by pitch and rhythm, and a short
 * chime for a new ticket. The mute switch is remembered between visits.
 */
import type { Priority } from './alarms.svelte.ts';
import type { LangStorage } from './i18n.svelte.ts';

export interface Tone { readonly hz: number; readonly ms: number; readonly gapMs: number }

/** P1 urgent (high, three fast beeps) … P4 one low soft beep. */
export const PRIORITY_TONES: Record<Priority, readonly Tone[]> = {
  1: [{ hz: 1320, ms: 120, gapMs: 60 }, { hz: 1320, ms: 120, gapMs: 60 }, { hz: 1320, ms: 120, gapMs: 0 }],
  2: [{ hz: 988, ms: 160, gapMs: 90 }, { hz: 988, ms: 160, gapMs: 0 }],
  3: [{ hz: 784, ms: 220, gapMs: 0 }],
  4: [{ hz: 523, ms: 180, gapMs: 0 }],
};

/** A rising two-note chime: a new ticket was assigned to me. */
export const TICKET_TONES: readonly Tone[] = [{ hz: 660, ms: 110, gapMs: 30 }, { hz: 880, ms: 160, gapMs: 0 }];

const STORAGE_KEY = 'estatewatch.muted';

export class AlarmSound {
  muted = $state(false);
  readonly #storage: LangStorage | null;
  #context: AudioContext | null = null;

  constructor(storage: LangStorage | null = null) {
    this.#storage = storage;
    this.muted = storage?.getItem(STORAGE_KEY) === 'true';
  }

  toggleMute(): void {
    this.muted = !this.muted;
    this.#storage?.setItem(STORAGE_KEY, String(this.muted));
  }

  alarm(priority: Priority): void {
    this.play(PRIORITY_TONES[priority]);
  }

  ticket(): void {
    this.play(TICKET_TONES);
  }

  play(tones: readonly Tone[]): void {
    if (this.muted || typeof AudioContext === 'undefined') return;
    // Browsers start the context suspended until a user gesture; resume() then succeeds.
    this.#context ??= new AudioContext();
    const context = this.#context;
    void context.resume().catch(() => undefined);
    let at = context.currentTime + 0.01;
    for (const tone of tones) {
      const oscillator = context.createOscillator();
      const gain = context.createGain();
      oscillator.type = 'square';
      oscillator.frequency.value = tone.hz;
      gain.gain.setValueAtTime(0.08, at);
      gain.gain.exponentialRampToValueAtTime(0.001, at + tone.ms / 1000);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(at);
      oscillator.stop(at + tone.ms / 1000);
      at += (tone.ms + tone.gapMs) / 1000;
    }
  }
}

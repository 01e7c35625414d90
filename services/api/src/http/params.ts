/** Reading and checking request parameters; every failure is a 400 problem naming the parameter. */
import type { Request } from 'express';
import { HttpProblem } from './problem.js';

export const MAX_URL_LENGTH = 2048;

function invalid(name: string, detail: string): HttpProblem {
  return new HttpProblem(400, 'invalid-parameter', `Invalid parameter: ${name}`, detail);
}

/** A single-valued query parameter; repeated or non-string values are rejected. */
export function queryString(
  req: Request,
  name: string,
  options: { required: true; maxLength: number },
): string;
export function queryString(
  req: Request,
  name: string,
  options: { required: false; maxLength: number },
): string | undefined;
export function queryString(
  req: Request,
  name: string,
  options: { required: boolean; maxLength: number },
): string | undefined {
  const value: unknown = (req.query as Record<string, unknown>)[name];
  if (value === undefined || value === '') {
    if (options.required) throw invalid(name, `query parameter "${name}" is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw invalid(name, `query parameter "${name}" must be given once, as text`);
  if (value.length > options.maxLength)
    throw invalid(name, `"${name}" is longer than ${options.maxLength} characters`);
  return value;
}

export function queryInteger(req: Request, name: string, fallback: number, min: number, max: number): number {
  const raw = queryString(req, name, { required: false, maxLength: 16 });
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw invalid(name, `"${name}" must be a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

export function reportId(req: Request): number {
  const raw = String(req.params.id ?? '');
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw invalid('id', 'a report id is a positive whole number');
  return Number(raw);
}

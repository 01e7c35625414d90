/**
 * Validates HTTP responses against the API's OpenAPI 3.1 document with Ajv
 * (JSON Schema 2020-12, the dialect OpenAPI 3.1 uses). A status or media type the
 * document does not list is a failure too.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { openApiDocument } from '@stagecraft/contract';

// ajv-formats ships CommonJS with a default export object.
const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ strict: false, allErrors: true }));
ajv.addSchema(openApiDocument as object, 'openapi');

interface ResponseObject {
  $ref?: string;
  content?: Record<string, { schema?: object }>;
}

function resolveResponse(response: ResponseObject): ResponseObject {
  if (response.$ref === undefined) return response;
  const name = response.$ref.split('/').at(-1) as string;
  const responses = (openApiDocument.components as { responses: Record<string, ResponseObject> }).responses;
  return responses[name] as ResponseObject;
}

/** Throws with a readable message when the response does not match the document. */
export function assertMatchesOpenApi(
  method: string,
  template: string,
  status: number,
  contentType: string | null,
  body: unknown,
): void {
  const operation = openApiDocument.paths[template]?.[method.toLowerCase()] as
    { responses: Record<string, ResponseObject> } | undefined;
  if (operation === undefined) throw new Error(`${method} ${template} is not in the OpenAPI document`);
  const declared = operation.responses[String(status)];
  if (declared === undefined)
    throw new Error(`${method} ${template} answered ${status}, which the document does not list`);
  const response = resolveResponse(declared);
  if (response.content === undefined) {
    if (body !== undefined && body !== '') throw new Error(`${status} should have no body`);
    return;
  }
  const mediaType = (contentType ?? '').split(';')[0]!.trim();
  const media = response.content[mediaType];
  if (media === undefined) {
    throw new Error(
      `${method} ${template} ${status} answered ${mediaType}, the document lists ${Object.keys(response.content).join(', ')}`,
    );
  }
  if (media.schema === undefined) return;
  const validate = ajv.compile({
    $ref: `openapi#${refPointer(template, method, status, mediaType, declared)}`,
  });
  if (!validate(body)) {
    throw new Error(
      `${method} ${template} ${status} body does not match: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
    );
  }
}

function escapePointer(segment: string): string {
  return segment.replaceAll('~', '~0').replaceAll('/', '~1');
}

function refPointer(
  template: string,
  method: string,
  status: number,
  mediaType: string,
  declared: ResponseObject,
): string {
  if (declared.$ref !== undefined) {
    return `${declared.$ref.slice(1)}/content/${escapePointer(mediaType)}/schema`;
  }
  return `/paths/${escapePointer(template)}/${method.toLowerCase()}/responses/${status}/content/${escapePointer(mediaType)}/schema`;
}

/**
 * Puts an API refusal beside the field it names. The API's validation messages start with (or
 * mention) the field, e.g. "phoneNumber must be 10-15 digits including the country code"; messages
 * that name none (or a conflict such as "Session already exists") go to `fallbackField` or the form.
 */
export const fieldOf = (
  message: string,
  fields: readonly string[],
  fallbackField?: string,
): string | null => {
  const named = fields.find((field) => new RegExp(`(^|[^A-Za-z0-9_])${field}\\b`).test(message))
  return named ?? fallbackField ?? null
}

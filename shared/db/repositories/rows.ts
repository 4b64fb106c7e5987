import type { InValue, Row } from '@libsql/client'

/**
 * Typed reads of result columns. A wrong type means the schema and the code disagree, which is a
 * bug worth failing loudly on rather than passing `undefined` along.
 */
export function text(row: Row, column: string): string {
  const value = row[column]
  if (typeof value !== 'string') throw new TypeError(`Column ${column} is not text`)
  return value
}

export function textOrNull(row: Row, column: string): string | null {
  return row[column] === null ? null : text(row, column)
}

export function integer(row: Row, column: string): number {
  const value = row[column]
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') return Number(value)
  throw new TypeError(`Column ${column} is not an integer`)
}

export function integerOrNull(row: Row, column: string): number | null {
  return row[column] === null ? null : integer(row, column)
}

/**
 * One JSON array argument for `json_each(?)`: a whole list travels as a single bound value, so a
 * statement never hits the bound-parameter limit and its text stays the same whatever the size.
 */
export function jsonList(values: readonly unknown[]): InValue {
  return JSON.stringify(values)
}

/**
 * `SET a = ?, b = ?` for the defined fields of a patch. Column names come only from `columns`,
 * never from the patch's keys, so a patch cannot inject SQL.
 */
export function setClause<T extends object>(
  patch: T,
  columns: { readonly [K in keyof T]-?: string },
): { assignments: string[]; args: InValue[] } {
  const assignments: string[] = []
  const args: InValue[] = []
  for (const key of Object.keys(columns) as (keyof T)[]) {
    const value = patch[key]
    if (value === undefined) continue
    assignments.push(`${columns[key]} = ?`)
    args.push(value as InValue)
  }
  return { assignments, args }
}

/**
 * Bodies in the course's shapes (see shared/reference/course-api.md): booleans are the strings
 * "true"/"false" and some clients compare whole bodies, so success bodies carry no extra fields.
 */
export interface CourseFailure {
  success: 'false';
  error: { code: number; message: string };
}

export function success<T extends object>(fields: T): { success: 'true' } & T {
  return { success: 'true', ...fields };
}

export function failure(code: number, message: string): CourseFailure {
  return { success: 'false', error: { code, message } };
}

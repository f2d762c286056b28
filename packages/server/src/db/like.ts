/** A LIKE pattern matching `text` anywhere, with %, _ and \ escaped (use with `escape '\'`). */
export const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

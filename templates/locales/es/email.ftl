email-sign-in-subject = Su enlace de acceso a { $firm }
email-sign-in-greeting = Hola, { $name }:
email-sign-in-intro = Use este enlace para ver su caso en el portal de clientes de { $firm }:
email-sign-in-button = Entrar
email-sign-in-code = O escriba este código en la página de acceso: { $code }
email-sign-in-expiry = El enlace y el código funcionan una vez, durante 15 minutos.
email-sign-in-ignore = Si usted no pidió entrar, puede ignorar este correo; nadie puede entrar sin él.
